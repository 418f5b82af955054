import Foundation

/// HTML text escaping: every string from the results goes through it.
public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}

/// The feasibility report as one self-contained HTML page: the Markdown report's content,
/// plus inline SVG charts under each model's table. No scripts, fonts or links are fetched:
/// the page opens offline and can be mailed as one file.
///
/// Pure: the same results, language and chart list give the same page. A model with one
/// batch size, or without compiled variants, simply has fewer charts. Results of
/// `inferbench load` get the load-test page (``LoadHTMLReport``).
public enum HTMLReport {
    public static func render(_ results: RunResults, language: ReportLanguage = .en, charts: [HTMLChartSection] = HTMLChartSection.standard) -> String {
        if results.kind == .load { return LoadHTMLReport.render(results, language: language) }
        let t = ReportText(language)
        let words = FindingsText(Findings(results), t)
        let title = ReportData.title(results, t)
        var out = "<!DOCTYPE html>\n<html lang=\"\(t.htmlLanguage)\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(HTML.escape(title))</title>\n<style>\(style)</style>\n</head>\n<body>\n<main>\n"
        out += "<h1>\(HTML.escape(title))</h1>\n"
        let run = t.runLine(id: results.run.id, started: ReportData.date(results.run.startedAt), status: results.run.status)
        out += "<p class=\"meta\">\(HTML.escape(run)) inferbench \(HTML.escape(results.run.inferbenchVersion)).</p>\n"
        out += "<section>\n<h2>\(HTML.escape(t.conclusion))</h2>\n<p class=\"conclusion\">\(HTML.escape(words.conclusion()))</p>\n</section>\n"
        out += "<section>\n<h2>\(HTML.escape(t.environment))</h2>\n" + table(ReportTables.environment(results, t), className: "env")
        out += "<p class=\"command\">\(HTML.escape(t.punctuated(t.command + ": ")))<code>\(HTML.escape(results.run.command))</code></p>\n</section>\n"
        out += "<p class=\"note\">\(HTML.escape(t.howToRead(for: results)))</p>\n"
        let comparisons = ReportData.comparisons(results)
        let multiEnv = Set(results.cells.map(\.environment)).count > 1
        for model in ReportData.models(results) {
            out += "<section>\n<h2>\(HTML.escape(t.results(for: model)))</h2>\n"
            out += table(ReportTables.summary(model: model, results, t), className: "summary")
            let cells = ReportTables.cells(of: model, in: results).filter { $0.status == .ok && $0.latencyMS != nil }
            var input = ChartInput(model: model, cells: cells, comparisons: comparisons, text: t, multiEnvironment: multiEnv)
            input.telemetry = results.telemetry
            let figures = charts.compactMap { $0.render(input) }
            if !figures.isEmpty { out += "<div class=\"charts\">\n" + figures.joined(separator: "\n") + "\n</div>\n" }
            out += "</section>\n"
        }
        if let envTable = ReportTables.environments(results, t) {
            out += "<section>\n<h2>\(HTML.escape(t.environmentsCompared))</h2>\n<p class=\"note\">\(HTML.escape(t.environmentsNote))</p>\n"
            out += table(envTable, className: "summary") + "</section>\n"
        }
        let sections = words.sections()
        if !sections.isEmpty {
            out += "<section>\n<h2>\(HTML.escape(t.findings))</h2>\n"
            for section in sections {
                out += "<h3>\(HTML.escape(section.title))</h3>\n" + list(section.items)
            }
            out += "</section>\n"
        }
        let warnings = words.warnings()
        out += "<section>\n<h2>\(HTML.escape(t.warnings))</h2>\n"
        if warnings.isEmpty {
            out += "<p>\(HTML.escape(t.noWarnings))</p>\n"
        } else {
            out +=
                "<ul class=\"warnings\">\n" + warnings.map { "<li><strong>\(HTML.escape($0.heading))</strong>\n" + list($0.items) + "</li>\n" }.joined()
                + "</ul>\n"
        }
        out += "</section>\n</main>\n</body>\n</html>\n"
        return out
    }

    static func list(_ items: [String], className: String? = nil) -> String {
        let cls = className.map { " class=\"\($0)\"" } ?? ""
        return "<ul\(cls)>\n" + items.map { "<li>\(HTML.escape($0))</li>\n" }.joined() + "</ul>\n"
    }

    static func table(_ table: ReportTable, className: String) -> String {
        func cells(_ values: [String], tag: String) -> String {
            values.enumerated().map { i, v in
                let cls = table.numeric.contains(i) ? " class=\"num\"" : ""
                return "<\(tag)\(cls)>\(HTML.escape(v))</\(tag)>"
            }.joined()
        }
        var out = "<div class=\"scroll\"><table class=\"\(className)\">\n<thead><tr>\(cells(table.headers, tag: "th"))</tr></thead>\n<tbody>\n"
        for (i, row) in table.rows.enumerated() {
            out += "<tr\(table.failed.contains(i) ? " class=\"failed\"" : "")>\(cells(row, tag: "td"))</tr>\n"
        }
        return out + "</tbody>\n</table></div>\n"
    }

    static let style = """

        :root { color-scheme: light; }
        body { margin: 0; background: #f9fafb; color: #111827; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif; }
        main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
        h1 { font-size: 26px; margin: 0 0 4px; }
        h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #e5e7eb; }
        h3 { font-size: 16px; margin: 20px 0 8px; }
        .meta, .note, .command { color: #4b5563; font-size: 14px; }
        .conclusion { font-size: 16px; background: #f0f9ff; border-left: 4px solid #0072B2; padding: 10px 14px; margin: 0; }
        code { font: 13px/1.4 ui-monospace, "SF Mono", Menlo, Consolas, monospace; background: #f3f4f6; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; font-size: 14px; margin: 4px 0 12px; }
        th, td { padding: 5px 9px; border-bottom: 1px solid #e5e7eb; text-align: left; vertical-align: top; }
        th { background: #f3f4f6; font-weight: 600; vertical-align: bottom; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        table.env td:first-child { font-weight: 600; white-space: nowrap; }
        table.summary { display: block; overflow-x: auto; max-width: 100%; font-size: 13px; }
        table.summary th, table.summary td { padding: 5px 7px; word-break: keep-all; }
        table.summary th.num { white-space: normal; min-width: 3.5em; }
        table.summary td { white-space: nowrap; }
        table.summary td:last-child { white-space: normal; min-width: 7em; }
        table.steps th, table.steps td { padding: 5px 5px; }
        table.steps td:last-child { min-width: 0; }
        tr.failed td { color: #b91c1c; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px 24px; margin-top: 12px; align-items: start; }
        figure.chart { margin: 0; border: 1px solid #e5e7eb; border-radius: 6px; padding: 10px 12px; }
        figure.chart-timeline, figure.chart.wide { grid-column: 1 / -1; }
        figure.chart-load-knee { max-width: 760px; margin-top: 16px; }
        figcaption { font-weight: 600; font-size: 14px; margin-bottom: 6px; }
        figure.chart > svg { width: 100%; height: auto; display: block; }
        svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif; fill: #374151; }
        svg text.axis { font-size: 13px; fill: #111827; }
        svg text.value { font-variant-numeric: tabular-nums; }
        ul.legend { list-style: none; padding: 0; margin: 6px 0 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
        ul.legend li { display: flex; align-items: center; gap: 6px; }
        .swatch { display: inline-block; width: 14px; height: 4px; border-radius: 2px; }
        svg.dash { width: 32px; height: 8px; }
        ul.warnings > li { margin-bottom: 6px; }
        ul.warnings ul { margin: 2px 0; color: #92400e; }

        """
}
