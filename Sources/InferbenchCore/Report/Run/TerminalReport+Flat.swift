import Foundation

/// A column of the terminal's cell table.
struct TerminalColumn {
    /// What a column holds, whatever its header says in the report's language.
    enum Kind {
        case model, variant, n, mean, p50, interval, p90, p99, min, max, throughput, stepsPerS, secondsPerImage, speedup, compile
    }

    var kind: Kind
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
        var dropped: [TerminalColumn.Kind] = []
        while true {
            let table = flatTable(results, kept, speedups)
            let droppable = kept.indices.filter { kept[$0].rank != nil }
            guard !layout.wide, widest(table) > layout.width, let victim = droppable.min(by: { kept[$0].rank! < kept[$1].rank! }) else {
                return table + flatNotes(results, kept: kept.map(\.kind), dropped: dropped, layout, speedups.words)
            }
            dropped.append(kept.remove(at: victim).kind)
        }
    }

    /// Every column, in the order they read; the ranks say which matter least on a narrow screen.
    static func columns(_ results: RunResults, _ speedups: NamedSpeedups) -> [TerminalColumn] {
        let multiEnv = Set(results.cells.map(\.environment)).count > 1
        var columns = [
            TerminalColumn(kind: .model, left: true) { cell, _ in multiEnv ? "\(cell.model) [\(cell.environment)]" : cell.model },
            TerminalColumn(kind: .variant, left: true) { cell, _ in cell.variant.label },
            TerminalColumn(kind: .n, rank: 5) { _, l in String(l.n) },
            TerminalColumn(kind: .mean, rank: 1) { _, l in Format.ms(l.mean) },
            TerminalColumn(kind: .p50) { _, l in Format.ms(l.p50) },
            TerminalColumn(kind: .interval, rank: 11) { _, l in Format.percent(l.relativeMedianHalfWidth) },
            TerminalColumn(kind: .p90, rank: 2) { _, l in Format.ms(l.p90) },
            TerminalColumn(kind: .p99, rank: 8) { _, l in l.supportedP99.map { Format.ms($0) } ?? "—" },
            TerminalColumn(kind: .min, rank: 3) { _, l in Format.ms(l.min) },
            TerminalColumn(kind: .max, rank: 4) { _, l in Format.ms(l.max) },
            TerminalColumn(kind: .throughput, rank: 10) { cell, _ in Format.rate(cell.throughputPerS) },
        ]
        if results.hasStepRates {
            columns.append(TerminalColumn(kind: .stepsPerS, rank: 6) { cell, _ in Format.rate(cell.stepsPerS) })
            columns.append(TerminalColumn(kind: .secondsPerImage, rank: 7) { cell, _ in Format.secondsPerImage(cell.secondsPerImage) })
        }
        columns.append(TerminalColumn(kind: .speedup, left: true) { cell, _ in speedups.text(cell) })
        let t = speedups.words
        columns.append(TerminalColumn(kind: .compile, rank: 9) { cell, _ in cell.variant.compile == .eager ? "-" : t.seconds(cell.coldStart?.compileS) })
        return columns
    }

    static func flatTable(_ results: RunResults, _ columns: [TerminalColumn], _ speedups: NamedSpeedups) -> String {
        let left = Set(columns.indices.filter { columns[$0].left })
        let t = speedups.words
        let headers = columns.map { $0.kind == .speedup ? speedups.header : t.columnHeader($0.kind) }
        var table = TextTable(headers: headers, leftAligned: left)
        for cell in results.cells {
            guard cell.status == .ok, let l = cell.latencyMS else {
                // The status where p50 would be, the error's kind where the speedup would be;
                // the message goes below the table, where it does not widen every column.
                table.rows.append(
                    columns.map { column in
                        switch column.kind {
                        case .model: String(name(cell, results).dropLast(cell.variant.label.count + 1))
                        case .variant: cell.variant.label
                        case .p50: t.status(cell.status)
                        case .speedup: (cell.error?.kind.rawValue).map(t.errorKind) ?? ""
                        default: "-"
                        }
                    })
                continue
            }
            table.rows.append(columns.map { $0.text(cell, l) })
        }
        return table.render()
    }

    static func flatNotes(
        _ results: RunResults, kept: [TerminalColumn.Kind], dropped: [TerminalColumn.Kind], _ layout: TerminalLayout, _ t: ReportText
    ) -> String {
        let clocks = Set(results.cells.compactMap { $0.measurement?.clock })
        var notes = [t.latencyNote(cudaEvents: clocks.contains(.cudaEvent), interval: ReportData.intervalNote(results, t))]
        if kept.contains(.stepsPerS) { notes.append(t.stepRatesNote) }
        let p99 = LatencySummary.minimumSamples(forPercentile: 99)
        if kept.contains(.p99), results.cells.contains(where: { $0.latencyMS.map { !$0.supports(percentile: 99) } ?? false }) {
            notes.append(t.fewForP99Note(p99))
        }
        if !dropped.isEmpty { notes.append(t.leftOutNote(width: layout.width, dropped: dropped.map(t.columnHeader))) }
        return "\n" + notes.map { wrap($0, layout) }.joined(separator: "\n") + "\n"
    }
}
