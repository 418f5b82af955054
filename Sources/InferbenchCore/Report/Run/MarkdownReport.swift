import Foundation

/// The feasibility report as Markdown: environment, a summary table per model, findings,
/// warnings and a conclusion, all computed from the results.
///
/// Pure: the same results and language give the same text. Failed and skipped cells are
/// rows of their model's table and items under Warnings, not errors; a run with no cells
/// renders an empty report. Results of `inferbench load` get the load-test report
/// (``LoadMarkdownReport``).
public enum MarkdownReport {
    public static func render(_ results: RunResults, language: ReportLanguage = .en) -> String {
        if results.kind == .load { return LoadMarkdownReport.render(results, language: language) }
        let t = ReportText(language)
        let words = FindingsText(Findings(results), t)
        var out = "# \(escape(ReportData.title(results, t)))\n\n"
        out += t.runLine(id: results.run.id, started: ReportData.date(results.run.startedAt), status: results.run.status)
        out += " inferbench \(results.run.inferbenchVersion).\n\n"
        out += "## \(t.conclusion)\n\n\(escape(words.conclusion()))\n\n"
        out += "## \(t.environment)\n\n"
        out += table(ReportTables.environment(results, t))
        out += "\n\(t.punctuated(t.command + ": "))\(code(results.run.command))\n\n"
        out += "_\(t.howToRead(for: results))_\n\n"
        for model in ReportData.models(results) {
            out += "## \(escape(t.results(for: model)))\n\n"
            out += table(ReportTables.summary(model: model, results, t))
            out += "\n"
        }
        if let envTable = ReportTables.environments(results, t) {
            out += "## \(t.environmentsCompared)\n\n_\(t.environmentsNote)_\n\n" + table(envTable) + "\n"
        }
        let sections = words.sections()
        if !sections.isEmpty {
            out += "## \(t.findings)\n\n"
            for section in sections {
                out += "### \(section.title)\n\n"
                out += section.items.map { "- \(escape($0))\n" }.joined() + "\n"
            }
        }
        out += "## \(t.warnings)\n\n"
        let warnings = words.warnings()
        out +=
            warnings.isEmpty
            ? "\(t.noWarnings)\n"
            : warnings.map { group in
                "- \(escape(group.heading))\n" + group.items.map { "  - \(escape($0))\n" }.joined()
            }.joined()
        return out
    }

    /// A pipe table; numeric columns are right-aligned (`---:`).
    static func table(_ table: ReportTable) -> String {
        func line(_ cells: [String]) -> String { "| " + cells.map(cell).joined(separator: " | ") + " |\n" }
        let rule = "|" + table.headers.indices.map { table.numeric.contains($0) ? " ---: " : " --- " }.joined(separator: "|") + "|\n"
        return line(table.headers) + rule + table.rows.map(line).joined()
    }

    static func cell(_ text: String) -> String {
        escape(text).replacingOccurrences(of: "|", with: "\\|")
    }

    /// Keeps text from turning into markup: HTML tags and line breaks become plain characters.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    /// Inline code that survives backticks inside it.
    static func code(_ text: String) -> String {
        let fence = text.contains("`") ? "``" : "`"
        return "\(fence)\(text.replacingOccurrences(of: "\n", with: " "))\(fence)"
    }
}
