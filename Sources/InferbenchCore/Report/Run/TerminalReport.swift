import Foundation

/// The summary printed to stdout at the end of a run: a pure function of the results.
public enum TerminalReport {
    /// What `run` or `load` prints at the end: the cell table, or for a load test its steps.
    public static func summary(_ results: RunResults) -> String {
        guard results.kind == .load else { return render(results) }
        return LoadReport.render(results.loadTests, load: results.load)
    }

    public static func render(_ results: RunResults) -> String {
        var out = ""
        for env in results.environments {
            let gpu = env.gpus.first.map { "\($0.name)" } ?? "no GPU"
            out +=
                "Environment \(env.name): Python \(env.pythonVersion ?? "?"), torch \(env.torch ?? "-"), CUDA \(env.cuda ?? "-"), \(gpu); device \(env.device ?? "?")\n"
        }
        out += "\n"
        let multiEnv = Set(results.cells.map(\.environment)).count > 1
        func name(_ cell: CellResult) -> String { (multiEnv ? "\(cell.model) [\(cell.environment)]" : cell.model) + " " + cell.variant.label }
        let steps = results.hasStepRates
        var headers = ["model", "variant", "n", "mean ms", "p50 ms", "95% CI", "p90 ms", "p99 ms", "min ms", "max ms", "samples/s"]
        if steps { headers += ["it/s", "s/image"] }
        var table = TextTable(headers: headers + ["speedup", "compile"], leftAligned: [0, 1, headers.count])
        for cell in results.cells {
            let model = multiEnv ? "\(cell.model) [\(cell.environment)]" : cell.model
            guard cell.status == .ok, let l = cell.latencyMS else {
                // The reason goes below the table, where a long message does not widen every column.
                table.rows.append([model, cell.variant.label, "-", "-", cell.status.rawValue.uppercased(), cell.error?.kind.rawValue ?? ""])
                continue
            }
            let speedup =
                results.comparisons.first { $0.candidate == cell.id && $0.metric == Derived.speedupMetric }.map { c in
                    c.significant ? String(format: "%.2fx [%.2f-%.2f]", c.ratio, c.ci95.lower, c.ci95.upper) : "no sig. diff"
                } ?? (cell.variant.compile == .eager ? "baseline" : "-")
            let compile = cell.variant.compile == .eager ? "-" : Format.seconds(cell.coldStart?.compileS)
            var row = [
                model, cell.variant.label, String(l.n), Format.ms(l.mean), Format.ms(l.p50), Format.percent(l.relativeMedianHalfWidth),
                Format.ms(l.p90), l.supportedP99.map { Format.ms($0) } ?? "—", Format.ms(l.min), Format.ms(l.max), Format.rate(cell.throughputPerS),
            ]
            if steps { row += [Format.rate(cell.stepsPerS), Format.secondsPerImage(cell.secondsPerImage)] }
            table.rows.append(row + [speedup, compile])
        }
        out += table.render()
        let clocks = Set(results.cells.compactMap { $0.measurement?.clock })
        out += "\nLatency per iteration (\(clocks.contains(.cudaEvent) ? "CUDA events" : "host perf_counter"), each iteration synchronized); "
        out += ReportData.intervalNote(results) + "; samples/s is back-to-back throughput; speedup is eager p50 / variant p50.\n"
        if steps { out += "it/s is denoising steps per call / p50; s/image is p50 / batch size (models that report steps per call).\n" }
        if results.cells.contains(where: { $0.latencyMS.map { !$0.supports(percentile: 99) } ?? false }) {
            out += "— : fewer than 100 samples, too few for a P99 (it would be their maximum); raise --max-time or --iterations.\n"
        }
        var notes: [String] = []
        for r in ReportData.environmentComparisons(results) {
            let c = r.comparison
            let verdict = c.significant ? String(format: "%.2fx [%.2f-%.2f]", c.ratio, c.ci95.lower, c.ci95.upper) : "no sig. diff"
            notes.append(
                "environments: \(r.cell.model) \(r.cell.variant.label): p50 \(Format.ms(r.base.latencyMS?.p50)) ms [\(r.base.environment)] vs \(Format.ms(r.cell.latencyMS?.p50)) ms [\(r.cell.environment)]: \(r.cell.environment) speedup \(verdict)"
            )
        }
        for cell in results.cells where cell.status != .ok {
            notes.append("\(cell.status.rawValue): \(name(cell)): \(cell.error.map { "\($0.kind): \($0.message)" } ?? "")")
        }
        // Warnings by kind: how many cells each affects and the first two, the rest in the report.
        for group in FindingsText(Findings(results), ReportText(.en)).warnings() where !group.heading.hasPrefix("Failed") {
            let shown = group.items.prefix(2)
            let more = group.items.count - shown.count
            notes.append(
                "warning: \(group.heading): " + shown.joined(separator: " | ") + (more > 0 ? " | … and \(more) more in report.md" : ""))
        }
        for cell in results.cells {
            if let cs = cell.coldStart, cell.variant.compile != .eager, cell.status == .ok {
                let be =
                    cs.breakevenIterations.map { "pays back after \(Int($0)) calls" }
                    ?? (Derived.baseline(for: cell, in: results.cells) == nil
                        ? "no eager baseline in this run to pay back against" : "never pays back (not faster than eager)")
                let how = cs.batchReuse.map { "batch sweep, \(ReportText(.en).batchReuse($0)): " } ?? "load \(Format.seconds(cs.loadS)), "
                notes.append(
                    "cold start: \(name(cell)): \(how)compile \(Format.seconds(cs.compileS))\(cs.compileCache.map { " (\($0) compile cache)" } ?? ""), first call \(Format.ms(cs.firstCallMS)) ms; \(be)"
                )
            }
            if let t = cell.telemetry, t.gpuUtilMean != nil {
                notes.append(
                    String(
                        format: "gpu: %@: SM util %.0f%% (max %.0f%%), power %.0f W, %@ J/sample, SM clock %.0f MHz, max %.0f °C%@",
                        name(cell), t.gpuUtilMean ?? 0, t.gpuUtilMax ?? 0, t.powerWMean ?? 0,
                        t.energyJPerSample.map { String(format: "%.3g", $0) } ?? "-", t.smClockMHzMean ?? 0, t.tempCMax ?? 0,
                        t.throttled ? ", THROTTLED" : ""))
            }
            if let a = cell.accuracy, cell.status == .ok, cell.variant.compile != .eager || cell.variant.precision != .fp32 {
                notes.append(
                    String(
                        format: "accuracy: %@: max abs err %.2g, cosine %.6f vs eager fp32 (%@)", name(cell), a.maxAbsErr, a.cosine,
                        a.withinTolerance ? "within tolerance" : "BEYOND tolerance"))
            }
        }
        if !notes.isEmpty { out += "\n" + notes.map { TextTable.hanging($0) }.joined(separator: "\n") + "\n" }
        let failed = results.cells.filter { $0.status != .ok }.count
        out += "\n\(results.cells.count - failed) of \(results.cells.count) cells ok"
        out += results.run.status == .incomplete ? " (run interrupted: incomplete)\n" : "\n"
        return out
    }
}
