import Foundation

extension TerminalReport {
    /// What a reader must see whatever the flags: environments compared, failed cells, and
    /// warnings grouped by kind (how many cells each affects, the first two, the rest in the
    /// report).
    static func problems(_ results: RunResults, _ t: ReportText) -> [String] {
        var notes = ReportData.environmentComparisons(results).map { t.environmentProblem(base: $0.base, cell: $0.cell, $0.comparison) }
        for cell in results.cells where cell.status != .ok {
            notes.append(t.failedProblem(cell, name: name(cell, results)))
        }
        // Failed cells have their own lines above.
        for group in FindingsText(Findings(results), t).warningGroups() where group.kind != FindingsText.failedGroup {
            let shown = Array(group.items.prefix(2))
            notes.append(t.warningProblem(group.heading, shown: shown, more: group.items.count - shown.count))
        }
        return notes
    }

    /// Per-cell detail, shown with `--verbose`: cold start, GPU telemetry, accuracy.
    static func detail(_ results: RunResults, _ t: ReportText) -> [String] {
        var notes: [String] = []
        for cell in results.cells {
            if let line = coldStartLine(cell, results, t) { notes.append(line) }
            if let telemetry = cell.telemetry, telemetry.gpuUtilMean != nil { notes.append(t.gpuDetail(telemetry, name: name(cell, results))) }
            if let a = cell.accuracy, cell.status == .ok, cell.variant.compile != .eager || cell.variant.precision != .fp32 {
                notes.append(t.accuracyDetail(a, name: name(cell, results)))
            }
        }
        return notes
    }

    static func coldStartLine(_ cell: CellResult, _ results: RunResults, _ t: ReportText) -> String? {
        guard let cs = cell.coldStart, cell.variant.compile != .eager, cell.status == .ok else { return nil }
        let payback: ReportText.Payback =
            cs.breakevenIterations.map { .after($0) } ?? (Derived.baseline(for: cell, in: results.cells) == nil ? .noBaseline : .never)
        return t.coldStartDetail(cs, name: name(cell, results), payback: payback)
    }
}
