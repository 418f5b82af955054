import Foundation

extension TerminalReport {
    /// What a reader must see whatever the flags: environments compared, failed cells, and
    /// warnings grouped by kind (how many cells each affects, the first two, the rest in the
    /// report).
    static func problems(_ results: RunResults) -> [String] {
        var notes: [String] = []
        for r in ReportData.environmentComparisons(results) {
            let c = r.comparison
            let verdict = c.significant ? Format.ratio(c.ratio, c.ci95.lower, c.ci95.upper) : "no measurable difference"
            notes.append(
                "environments: \(r.cell.model) \(r.cell.variant.label): p50 \(Format.ms(r.base.latencyMS?.p50)) ms [\(r.base.environment)] vs \(Format.ms(r.cell.latencyMS?.p50)) ms [\(r.cell.environment)]: \(r.cell.environment) speedup \(verdict)"
            )
        }
        for cell in results.cells where cell.status != .ok {
            notes.append("\(cell.status.rawValue): \(name(cell, results)): \(cell.error.map { "\($0.kind): \($0.message)" } ?? "")")
        }
        for group in FindingsText(Findings(results), ReportText(.en)).warnings() where !group.heading.hasPrefix("Failed") {
            let shown = group.items.prefix(2)
            let more = group.items.count - shown.count
            notes.append(
                "warning: \(group.heading): " + shown.joined(separator: " | ") + (more > 0 ? " | … and \(more) more in report.md" : ""))
        }
        return notes
    }

    /// Per-cell detail, shown with `--verbose`: cold start, GPU telemetry, accuracy.
    static func detail(_ results: RunResults) -> [String] {
        var notes: [String] = []
        for cell in results.cells {
            if let line = coldStartLine(cell, results) { notes.append(line) }
            if let t = cell.telemetry, t.gpuUtilMean != nil {
                notes.append(
                    String(
                        format: "gpu: %@: SM util %.0f%% (max %.0f%%), power %.0f W, %@ J/sample, SM clock %.0f MHz, max %.0f °C%@",
                        name(cell, results), t.gpuUtilMean ?? 0, t.gpuUtilMax ?? 0, t.powerWMean ?? 0,
                        t.energyJPerSample.map { String(format: "%.3g", $0) } ?? "-", t.smClockMHzMean ?? 0, t.tempCMax ?? 0,
                        t.throttled ? ", THROTTLED" : ""))
            }
            if let a = cell.accuracy, cell.status == .ok, cell.variant.compile != .eager || cell.variant.precision != .fp32 {
                notes.append(
                    String(
                        format: "accuracy: %@: max abs err %.2g, cosine %.6f vs eager fp32 (%@)", name(cell, results), a.maxAbsErr, a.cosine,
                        a.withinTolerance ? "within tolerance" : "BEYOND tolerance"))
            }
        }
        return notes
    }

    static func coldStartLine(_ cell: CellResult, _ results: RunResults) -> String? {
        guard let cs = cell.coldStart, cell.variant.compile != .eager, cell.status == .ok else { return nil }
        let be =
            cs.breakevenIterations.map { "pays back after \(Int($0)) calls" }
            ?? (Derived.baseline(for: cell, in: results.cells) == nil
                ? "no eager baseline in this run to pay back against" : "never pays back (not faster than eager)")
        let how = cs.batchReuse.map { "batch sweep, \(ReportText(.en).batchReuse($0)): " } ?? "load \(Format.seconds(cs.loadS)), "
        return
            "cold start: \(name(cell, results)): \(how)compile \(Format.seconds(cs.compileS))\(cs.compileCache.map { " (\($0) compile cache)" } ?? ""), first call \(Format.ms(cs.firstCallMS)) ms; \(be)"
    }
}
