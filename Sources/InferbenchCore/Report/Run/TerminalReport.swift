import Foundation

/// How the terminal summary is laid out: the width it must fit and how much it shows.
public struct TerminalLayout: Sendable, Equatable {
    /// The columns a line may take (`COLUMNS`; 100, the design width, when unknown).
    public var width: Int
    /// Every table column, however wide the table gets (`--wide`).
    public var wide: Bool
    /// Per-cell detail too: cold start, accuracy, GPU telemetry (`--verbose`).
    public var verbose: Bool

    public static let designWidth = 100

    public init(width: Int = TerminalLayout.designWidth, wide: Bool = false, verbose: Bool = false) {
        // Narrower than 40 columns nothing reads well; the tables still stay as narrow as they can.
        self.width = max(40, width)
        self.wide = wide
        self.verbose = verbose
    }
}

/// The summary printed to stdout at the end of a run: a pure function of the results.
///
/// Short by default: the tables, what went wrong, the conclusion of report.md and one line
/// per comparison that matters. Per-cell detail is there with `verbose`; the report files
/// hold all of it either way.
public enum TerminalReport {
    /// What `run` or `load` prints at the end: the cell tables, or for a load test its steps.
    public static func summary(_ results: RunResults, layout: TerminalLayout = TerminalLayout(), language: ReportLanguage = .en) -> String {
        guard results.kind == .load else { return render(results, layout: layout, language: language) }
        // The load report's own conclusion, the same sentences as its report.md.
        let t = ReportText(language)
        let conclusion = LoadReportData.conclusion(results, t)
        return LoadReport.render(results.loadTests, load: results.load, language: language, layout: layout, verdicts: false) + "\n"
            + wrap(t.pick("Conclusion: ", "结论:") + conclusion, layout)
            + "\n"
    }

    /// A run's summary in `language`: `run` prints English; `report --summary --lang zh`
    /// prints the same lines in Chinese.
    public static func render(_ results: RunResults, layout: TerminalLayout = TerminalLayout(), language: ReportLanguage = .en) -> String {
        let t = ReportText(language)
        var out = results.environments.map { wrap(t.environmentLine($0), layout) + "\n" }.joined() + "\n"
        out += tables(results, layout, t)
        let notes = problems(results, t) + (layout.verbose ? detail(results, t) : [])
        if !notes.isEmpty { out += "\n" + notes.map { wrap($0, layout) }.joined(separator: "\n") + "\n" }
        let words = FindingsText(Findings(results), t)
        if !results.cells.isEmpty { out += "\n" + wrap(words.pick("Conclusion: ", "结论:") + words.conclusion(), layout) + "\n" }
        let verdicts = words.verdictLines()
        if !verdicts.isEmpty { out += "\n" + verdicts.map { wrap($0, layout) }.joined(separator: "\n") + "\n" }
        let failed = results.cells.filter { $0.status != .ok }.count
        out += "\n" + t.cellsOK(results.cells.count - failed, of: results.cells.count, interrupted: results.run.status == .incomplete) + "\n"
        return out
    }

    /// A note wrapped to the width, its continuation lines indented.
    static func wrap(_ text: String, _ layout: TerminalLayout) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { TextTable.hanging(String($0), width: layout.width) }
            .joined(separator: "\n")
    }

    /// A cell's name in a note: `resnet50 default/fp32/bs1`, with `[env]` when several ran.
    static func name(_ cell: CellResult, _ results: RunResults) -> String {
        let multiEnv = Set(results.cells.map(\.environment)).count > 1
        return (multiEnv ? "\(cell.model) [\(cell.environment)]" : cell.model) + " " + cell.variant.label
    }
}
