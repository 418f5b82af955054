import Foundation

/// The speedups of a run as the tables show them, each with the name of its baseline.
struct NamedSpeedups {
    /// The recorded comparison over eager, by the compared cell's id.
    var comparisons: [String: Comparison]
    /// The baseline's variant (`eager/fp16`), by the compared cell's id.
    var baselines: [String: String]
    /// The one baseline of every speedup, when there is one: it then goes in the header.
    var only: String?

    /// The words of the speedup cells and header.
    var words: ReportText

    init(_ results: RunResults, _ words: ReportText) {
        self.words = words
        comparisons = ReportData.comparisons(results)
        baselines = ReportData.baselineNames(results, comparisons)
        let names = Set(baselines.values)
        only = names.count == 1 ? names.first : nil
    }

    /// `2.50× [2.46–2.54]`, `n.s.` after one whose interval holds 1, and the baseline's name
    /// after it where the header cannot carry it.
    func text(_ cell: CellResult) -> String {
        guard let c = comparisons[cell.id] else { return baselines.values.contains(cell.variant.family) ? words.baseline : "-" }
        var out = Format.ratio(c.ratio, c.ci95.lower, c.ci95.upper) + (c.significant ? "" : " " + words.notSignificant)
        if only == nil, let name = baselines[cell.id] { out += " " + words.pick("vs \(name)", "相对 \(name)") }
        return out
    }

    var header: String { only.map(words.speedupAgainst) ?? words.columnHeader(.speedup) }
}

extension TerminalReport {
    /// The cells as tables that fit the width: per model a pivot of variants × batch sizes when
    /// a batch sweep ran, else one row per cell with the columns that fit (`wide`: all of them).
    static func tables(_ results: RunResults, _ layout: TerminalLayout, _ t: ReportText) -> String {
        guard !results.cells.isEmpty else { return "" }
        let speedups = NamedSpeedups(results, t)
        let sweep = ReportData.models(results).contains { model in ReportData.batches(results.cells.filter { $0.model == model }).count > 1 }
        if !layout.wide, sweep {
            let pivots = ReportData.models(results).map { pivot(model: $0, results, speedups) }.joined(separator: "\n")
            let note = "\n" + t.pivotNote
            if widest(pivots) <= layout.width { return pivots + wrap(note, layout) + "\n" }
        }
        return flat(results, speedups, layout)
    }

    static func widest(_ text: String) -> Int {
        text.split(separator: "\n").map(\.displayWidth).max() ?? 0
    }

    /// One model's variants (rows) by batch size (columns), as torch.utils.benchmark.Compare
    /// prints them: p50 and the speedup in each cell.
    static func pivot(model: String, _ results: RunResults, _ speedups: NamedSpeedups) -> String {
        let cells = results.cells.filter { $0.model == model }
        let batches = ReportData.batches(cells)
        let multiEnv = Set(results.cells.map(\.environment)).count > 1
        let t = speedups.words
        var table = TextTable(headers: [t.variant, t.pivotBaseline] + batches.map(t.pivotBatch), leftAligned: [0, 1])
        for (series, row) in ReportData.seriesGroups(cells) {
            let against = row.compactMap { speedups.baselines[$0.id] }.first ?? "-"
            table.rows.append(
                [ReportData.name(series, multiEnvironment: multiEnv), against]
                    + batches.map { batch in row.first { $0.variant.batchSize == batch }.map { pivotCell($0, speedups) } ?? "" })
        }
        return t.pivotTitle(model) + "\n" + table.render()
    }

    static func pivotCell(_ cell: CellResult, _ speedups: NamedSpeedups) -> String {
        let t = speedups.words
        guard cell.status == .ok, let l = cell.latencyMS else {
            return cell.error.map { t.pick($0.kind.rawValue.uppercased(), t.errorKind($0.kind.rawValue)) } ?? t.status(cell.status)
        }
        guard let c = speedups.comparisons[cell.id] else { return Format.ms(l.p50) }
        return "\(Format.ms(l.p50)) " + (c.significant ? Format.factor(c.ratio) + "×" : t.notSignificant)
    }
}
