import Foundation

/// The report of a load test as Markdown: the HTML page's content without the chart.
enum LoadMarkdownReport {
    static func render(_ results: RunResults, language: ReportLanguage) -> String {
        let t = ReportText(language)
        var out = "# \(MarkdownReport.escape(LoadReportData.title(results, t)))\n\n"
        out += t.runLine(id: results.run.id, started: ReportData.date(results.run.startedAt), status: results.run.status)
        out += " inferbench \(results.run.inferbenchVersion).\n\n"
        out += "## \(t.conclusion)\n\n\(MarkdownReport.escape(LoadReportData.conclusion(results, t)))\n\n"
        out += "## \(t.environment)\n\n" + MarkdownReport.table(ReportTables.environment(results, t))
        out += "\n\(t.punctuated(t.command + ": "))\(MarkdownReport.code(results.run.command))\n\n"
        if let info = results.load { out += "## \(t.loadSetup)\n\n\(MarkdownReport.escape(t.loadSetupLine(info)))\n\n" }
        // `--offline` alone ran no step: the conclusion holds its figure, and no empty table.
        if !results.loadTests.isEmpty {
            out += "## \(t.loadSteps)\n\n" + MarkdownReport.table(LoadReportData.steps(results, t))
            out += "\n_\(LoadReportData.howToRead(results, t))_\n\n"
        }
        out += "## \(t.warnings)\n\n"
        let warnings = LoadReportData.warnings(results, t)
        out +=
            warnings.isEmpty
            ? "\(t.loadNoWarnings)\n"
            : warnings.map { "- \(MarkdownReport.escape($0.step))\n" + $0.items.map { "  - \(MarkdownReport.escape($0))\n" }.joined() }.joined()
        return out
    }
}
