import Foundation

/// The report of a load test as one self-contained HTML page (like ``HTMLReport``, which hands
/// load-test results here): conclusion, environment, setup, a table of the steps, the timeline
/// chart, warnings.
///
/// Pure. A test killed half-way (read back from the store) renders with its partial step.
enum LoadHTMLReport {
    static func render(_ results: RunResults, language: ReportLanguage) -> String {
        let t = ReportText(language)
        let title = LoadReportData.title(results, t)
        var out = "<!DOCTYPE html>\n<html lang=\"\(t.htmlLanguage)\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(HTML.escape(title))</title>\n<style>\(HTMLReport.style)</style>\n</head>\n<body>\n<main>\n"
        out += "<h1>\(HTML.escape(title))</h1>\n"
        let run = t.runLine(id: results.run.id, started: ReportData.date(results.run.startedAt), status: results.run.status)
        out += "<p class=\"meta\">\(HTML.escape(run)) inferbench \(HTML.escape(results.run.inferbenchVersion)).</p>\n"
        out += "<section>\n<h2>\(HTML.escape(t.conclusion))</h2>\n"
        out += "<p class=\"conclusion\">\(HTML.escape(LoadReportData.conclusion(results, t)))</p>\n</section>\n"
        out += "<section>\n<h2>\(HTML.escape(t.environment))</h2>\n" + HTMLReport.table(ReportTables.environment(results, t), className: "env")
        out += "<p class=\"command\">\(HTML.escape(t.punctuated(t.command + ": ")))<code>\(HTML.escape(results.run.command))</code></p>\n</section>\n"
        if let info = results.load {
            out += "<section>\n<h2>\(HTML.escape(t.loadSetup))</h2>\n<p>\(HTML.escape(t.loadSetupLine(info)))</p>\n</section>\n"
        }
        // `--offline` alone ran no step: the conclusion holds its figure, and no empty table.
        if !results.loadTests.isEmpty {
            out += "<section>\n<h2>\(HTML.escape(t.loadSteps))</h2>\n"
            out += HTMLReport.table(LoadReportData.steps(results, t), className: "summary steps")
            out += "<p class=\"note\">\(HTML.escape(LoadReportData.howToRead(results, t)))</p>\n"
            if let chart = LoadTimelineChart.render(results, t) { out += chart + "\n" }
            if let chart = LoadKneeChart.render(results, t) { out += chart + "\n" }
            out += "</section>\n"
        }
        let warnings = LoadReportData.warnings(results, t)
        out += "<section>\n<h2>\(HTML.escape(t.warnings))</h2>\n"
        if warnings.isEmpty {
            out += "<p>\(HTML.escape(t.loadNoWarnings))</p>\n"
        } else {
            out +=
                "<ul class=\"warnings\">\n"
                + warnings.map { "<li><strong>\(HTML.escape($0.step))</strong>\n" + HTMLReport.list($0.items) + "</li>\n" }.joined() + "</ul>\n"
        }
        out += "</section>\n</main>\n</body>\n</html>\n"
        return out
    }
}
