import Foundation

/// A column of the terminal's cell table.
struct TerminalColumn {
    var header: String
    /// When the table is too wide, columns go lowest rank first; nil: never.
    var rank: Int?
    var left = false
    var text: (CellResult, LatencySummary) -> String
}

extension TerminalReport {
    /// One row per cell, with the columns that fit the width (every column with `wide`); the
    /// notes say what is left out and how to see it.
    static func flat(_ results: RunResults, _ speedups: NamedSpeedups, _ layout: TerminalLayout) -> String {
        var kept = columns(results, speedups)
        var dropped: [String] = []
        while true {
            let table = flatTable(results, kept, speedups)
            let droppable = kept.indices.filter { kept[$0].rank != nil }
            guard !layout.wide, widest(table) > layout.width, let victim = droppable.min(by: { kept[$0].rank! < kept[$1].rank! }) else {
                return table + flatNotes(results, kept: kept.map(\.header), dropped: dropped, layout)
            }
            dropped.append(kept.remove(at: victim).header)
        }
    }

    /// Every column, in the order they read; the ranks say which matter least on a narrow screen.
    static func columns(_ results: RunResults, _ speedups: NamedSpeedups) -> [TerminalColumn] {
        let multiEnv = Set(results.cells.map(\.environment)).count > 1
        var columns = [
            TerminalColumn(header: "model", left: true) { cell, _ in multiEnv ? "\(cell.model) [\(cell.environment)]" : cell.model },
            TerminalColumn(header: "variant", left: true) { cell, _ in cell.variant.label },
            TerminalColumn(header: "n", rank: 5) { _, l in String(l.n) },
            TerminalColumn(header: "mean ms", rank: 1) { _, l in Format.ms(l.mean) },
            TerminalColumn(header: "p50 ms") { _, l in Format.ms(l.p50) },
            TerminalColumn(header: "95% CI", rank: 11) { _, l in Format.percent(l.relativeMedianHalfWidth) },
            TerminalColumn(header: "p90 ms", rank: 2) { _, l in Format.ms(l.p90) },
            TerminalColumn(header: "p99 ms", rank: 8) { _, l in l.supportedP99.map { Format.ms($0) } ?? "—" },
            TerminalColumn(header: "min ms", rank: 3) { _, l in Format.ms(l.min) },
            TerminalColumn(header: "max ms", rank: 4) { _, l in Format.ms(l.max) },
            TerminalColumn(header: "samples/s", rank: 10) { cell, _ in Format.rate(cell.throughputPerS) },
        ]
        if results.hasStepRates {
            columns.append(TerminalColumn(header: "it/s", rank: 6) { cell, _ in Format.rate(cell.stepsPerS) })
            columns.append(TerminalColumn(header: "s/image", rank: 7) { cell, _ in Format.secondsPerImage(cell.secondsPerImage) })
        }
        columns.append(TerminalColumn(header: speedups.header, left: true) { cell, _ in speedups.text(cell) })
        columns.append(
            TerminalColumn(header: "compile", rank: 9) { cell, _ in cell.variant.compile == .eager ? "-" : Format.seconds(cell.coldStart?.compileS) })
        return columns
    }

    static func flatTable(_ results: RunResults, _ columns: [TerminalColumn], _ speedups: NamedSpeedups) -> String {
        let left = Set(columns.indices.filter { columns[$0].left })
        var table = TextTable(headers: columns.map(\.header), leftAligned: left)
        for cell in results.cells {
            guard cell.status == .ok, let l = cell.latencyMS else {
                // The status where p50 would be, the error's kind where the speedup would be;
                // the message goes below the table, where it does not widen every column.
                table.rows.append(
                    columns.map { column in
                        switch column.header {
                        case "model": String(name(cell, results).dropLast(cell.variant.label.count + 1))
                        case "variant": cell.variant.label
                        case "p50 ms": cell.status.rawValue.uppercased()
                        case speedups.header: cell.error?.kind.rawValue ?? ""
                        default: "-"
                        }
                    })
                continue
            }
            table.rows.append(columns.map { $0.text(cell, l) })
        }
        return table.render()
    }

    static func flatNotes(_ results: RunResults, kept: [String], dropped: [String], _ layout: TerminalLayout) -> String {
        let clocks = Set(results.cells.compactMap { $0.measurement?.clock })
        var notes = [
            "Latency per iteration (\(clocks.contains(.cudaEvent) ? "CUDA events" : "host perf_counter"), each iteration synchronized); "
                + ReportData.intervalNote(results)
                + "; samples/s is back-to-back throughput; speedup is the baseline's p50 / the variant's p50 (eager at the same precision and batch), n.s.: its 95% interval holds 1."
        ]
        if kept.contains("it/s") { notes.append("it/s is denoising steps per call / p50; s/image is p50 / batch size (models that report steps per call).") }
        let p99 = LatencySummary.minimumSamples(forPercentile: 99)
        if kept.contains("p99 ms"), results.cells.contains(where: { $0.latencyMS.map { !$0.supports(percentile: 99) } ?? false }) {
            notes.append("— : fewer than \(p99) samples, too few for a P99 (it would be their maximum); raise --max-time or --iterations.")
        }
        if !dropped.isEmpty { notes.append("Left out to fit \(layout.width) columns: \(dropped.joined(separator: ", ")) (--wide shows every column).") }
        return "\n" + notes.map { wrap($0, layout) }.joined(separator: "\n") + "\n"
    }
}
