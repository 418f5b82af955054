import Foundation

extension RecommendReport {
    /// The terminal's closing screen: the answer, the runners-up in a table, the search.
    public static func terminal(_ record: RecommendRecord, width: Int) -> String {
        let t = ReportText(.en)
        var out = title(record, t) + "\n\n" + answer(record, t).enumerated().map { $0 == 0 ? $1 : "  " + $1 }.joined(separator: "\n") + "\n"
        let table = runnersUp(record, t)
        if !table.rows.isEmpty {
            var text = TextTable(headers: table.headers, rows: table.rows, leftAligned: [0, 3, 4])
            text.wrapWidths = [0: 34, 4: max(30, width - 34 - 14 - 8 - 10 - 10)]
            out += "\nRunners-up:\n" + text.render() + "\n"
        }
        if let check = record.checks.last { out += "\n" + checkLine(check, record, t) + "\n" }
        out += "\n" + searchLine(record, t) + "\n"
        return out
    }

    /// `--check`'s verdict: the plain load's bracket against the recommended one.
    public static func checkLine(_ check: CheckRecord, _ record: RecommendRecord, _ t: ReportText) -> String {
        let m = check.measurement
        let recommended = record.answer.map { bracket($0.best.lowerQPS, $0.best.upperQPS) } ?? "-"
        let measured = m.lowerQPS == nil ? t.pick("no rate passed", "没有速率通过") : bracket(m.lowerQPS, m.upperQPS) + t.pick(" req/s", " 请求/秒")
        let verdict: String
        switch check.verdict {
        case .agrees: verdict = t.pick("agrees (the brackets share a rate)", "一致(区间有公共速率)")
        case .disagrees: verdict = t.pick("does NOT agree (the brackets share no rate)", "不一致(区间没有公共速率)")
        case .incomplete: verdict = t.pick("no verdict: stopped before its fresh starts finished", "无结论:重新启动未全部完成即被停止")
        case .failed: verdict = t.pick("no verdict: the load test failed (\(m.message ?? ""))", "无结论:负载测试失败(\(m.message ?? ""))")
        }
        let so = m.status == .complete ? "" : t.pick(" so far", "(截至停止)")
        let reasons = checkReasons(check, record, t)
        let why = reasons.isEmpty ? "" : t.pick(". Why: ", "。原因:") + reasons.joined(separator: t.pick("; ", ";"))
        return t.punctuated(
            t.pick(
                "Check (\(m.folder)): \(measured)\(so) by a plain load --find-max-qps --processes \(m.processes) against the recommended \(recommended): \(verdict)",
                "复核(\(m.folder)):普通 load --find-max-qps --processes \(m.processes) 测得 \(measured)\(so),推荐值 \(recommended):\(verdict)") + why)
    }

    public static func markdown(_ record: RecommendRecord, language: ReportLanguage) -> String {
        let t = ReportText(language)
        var out = "# \(MarkdownReport.escape(title(record, t)))\n\n"
        out += "## \(t.pick("Recommendation", "推荐"))\n\n" + answer(record, t).map { "- " + MarkdownReport.escape($0) }.joined(separator: "\n") + "\n\n"
        for check in record.checks { out += MarkdownReport.escape(checkLine(check, record, t)) + "\n\n" }
        out += "## \(t.pick("Runners-up", "落选配置"))\n\n" + MarkdownReport.table(runnersUp(record, t)) + "\n"
        out += "## \(t.pick("Screen", "筛选")) (`\(record.screen?.folder ?? "screen")`)\n\n" + MarkdownReport.table(screen(record, t)) + "\n"
        out += "## \(t.pick("SLA searches", "SLA 搜索"))\n\n" + MarkdownReport.table(measurements(record, t)) + "\n"
        out += MarkdownReport.escape(searchLine(record, t)) + ". " + t.pick("Command", "命令") + ": `\(record.command)`\n"
        return out
    }

    public static func html(_ record: RecommendRecord, language: ReportLanguage) -> String {
        let t = ReportText(language)
        let heading = title(record, t)
        var out = "<!DOCTYPE html>\n<html lang=\"\(t.htmlLanguage)\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(HTML.escape(heading))</title>\n<style>\(HTMLReport.style)</style>\n</head>\n<body>\n<main>\n<h1>\(HTML.escape(heading))</h1>\n"
        out += "<section>\n<h2>\(HTML.escape(t.pick("Recommendation", "推荐")))</h2>\n" + HTMLReport.list(answer(record, t), className: "conclusion")
        for check in record.checks { out += "<p>\(HTML.escape(checkLine(check, record, t)))</p>\n" }
        if let chart = ParetoChart.render(record, t) { out += chart + "\n" }
        out += "</section>\n"
        out +=
            "<section>\n<h2>\(HTML.escape(t.pick("Runners-up", "落选配置")))</h2>\n" + HTMLReport.table(runnersUp(record, t), className: "summary") + "</section>\n"
        out += "<section>\n<h2>\(HTML.escape(t.pick("Screen", "筛选")))</h2>\n" + HTMLReport.table(screen(record, t), className: "summary") + "</section>\n"
        out += "<section>\n<h2>\(HTML.escape(t.pick("SLA searches", "SLA 搜索")))</h2>\n" + HTMLReport.table(measurements(record, t), className: "summary")
        out += "<p class=\"command\">\(HTML.escape(searchLine(record, t))). <code>\(HTML.escape(record.command))</code></p>\n</section>\n"
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    /// Writes report.md and report.html beside recommend.json.
    public static func write(_ record: RecommendRecord, language: ReportLanguage = .en, to folder: URL) throws(InferbenchError) -> [URL] {
        try OutputFolder.createDirectory(folder)
        var written: [URL] = []
        for (name, text) in [("report.md", markdown(record, language: language)), ("report.html", html(record, language: language))] {
            let url = folder.appending(path: name)
            do { try AtomicFile.write(Data(text.utf8), to: url) } catch { throw .writeFailed("\(error.description). \(error.remedy)") }
            written.append(url)
        }
        return written
    }
}

/// Every configuration measured, as requests per second within the SLA (its capacity's lower
/// bound) against the P99 there: the Pareto front joined, the recommendation ringed.
enum ParetoChart {
    static let size = (width: 640.0, height: 340.0, left: 64.0, right: 16.0, top: 16.0, bottom: 44.0)
    static let colors = (point: "#0072B2", front: "#D55E00", best: "#009E73", sla: "#b91c1c")

    static func render(_ record: RecommendRecord, _ t: ReportText) -> String? {
        guard let answer = record.answer, !answer.pareto.isEmpty else { return nil }
        let s = size
        let points = answer.pareto
        let sla = record.question.slaP99MS
        let y = PlotAxis.linear(0, max(sla, points.map(\.p99MS).max() ?? sla) * 1.05, from: s.height - s.bottom, to: s.top)
        let x = PlotAxis.linear(0, (points.map(\.qps).max() ?? 1) * 1.05, from: s.left, to: s.width - s.right)
        var svg = SVGCanvas(width: s.width, height: s.height)
        svg.yAxis(y, left: s.left, right: s.width - s.right, title: t.pick("P99 at that rate, ms", "该速率下 P99(ms)"))
        let base = s.height - s.bottom
        svg.line(s.left, base, s.width - s.right, base, stroke: "#6b7280")
        let ticks = x.ticks()
        for (tick, label) in zip(ticks, Format.ticks(ticks)) { svg.text(x.position(tick), base + 16, label, anchor: .middle, className: "tick") }
        let unit = RecommendReport.perUnit(record, t)
        svg.text(
            (s.left + s.width - s.right) / 2, s.height - 6, t.pick("requests/s within the SLA \(unit)", "SLA 内请求/秒 \(unit)"), anchor: .middle, className: "axis"
        )
        svg.line(s.left, y.position(sla), s.width - s.right, y.position(sla), stroke: colors.sla, width: 1.5, dash: "6 4")
        let front = points.filter(\.front).sorted { $0.qps < $1.qps }
        svg.polyline(front.map { (x.position($0.qps), y.position($0.p99MS)) }, stroke: colors.front, width: 1.5)
        for p in points {
            let isBest = p.config == answer.best.config
            let tip = "\(RecommendReport.configText(p.config, t)): \(Format.qps(p.qps)) req/s, P99 \(Format.ms(p.p99MS)) ms"
            if isBest { svg.circle(x.position(p.qps), y.position(p.p99MS), r: 8, fill: colors.best, title: tip) }
            svg.circle(x.position(p.qps), y.position(p.p99MS), r: p.front ? 4.5 : 3.5, fill: p.front ? colors.front : colors.point, title: tip)
        }
        let legend: [(String, String)] = [
            (t.pick("configuration measured", "已测配置"), colors.point), (t.pick("Pareto front", "帕累托前沿"), colors.front),
            (t.pick("recommended", "推荐"), colors.best), (t.pick("P99 bound (\(Format.trimmed(sla)) ms)", "P99 上限(\(Format.trimmed(sla)) ms)"), colors.sla),
        ]
        let caption = t.pick("Configurations: requests per second within the SLA against P99", "各配置:SLA 内请求/秒与 P99")
        return HTMLChartSection.figure(kind: "pareto", caption: caption, svg: svg.render(label: caption), legend: legend, wide: true)
    }
}
