import Foundation

/// Latency against throughput, one point per step: P50 and P99 over the rate each step
/// achieved, joined in order of the load offered (concurrency or target rate). Where the line
/// turns up is the knee: past it, more load buys queueing, not throughput.
///
/// Not drawn (nil, not an error) with fewer than two finished steps that measured latency.
/// A step's P99 from fewer than 100 requests is its maximum, so that point is left out and
/// the legend says why.
enum LoadKneeChart {
    static let size = (width: 600.0, height: 320.0, left: 64.0, right: 16.0, top: 16.0, bottom: 44.0)
    static let colors = (p50: "#009E73", p99: "#D55E00", sla: "#b91c1c")

    /// The steps to draw, in order of the load offered; steps cut short are left out.
    static func steps(_ results: RunResults) -> [(index: Int, step: LoadTestResult, latency: LatencySummary)] {
        results.loadTests.enumerated()
            .compactMap { i, s in s.partial == true ? nil : s.latencyMS.map { (i, s, $0) } }
            .sorted { offered($0.step) < offered($1.step) }
    }

    static func offered(_ s: LoadTestResult) -> Double {
        s.concurrency.map(Double.init) ?? s.targetQPS ?? s.achievedQPS
    }

    static func render(_ results: RunResults, _ t: ReportText) -> String? {
        let rows = steps(results)
        guard rows.count >= 2 else { return nil }
        let s = size
        let sla = results.load?.slaP99MS
        let p99s = rows.map { $0.latency.supportedP99 }
        let values = rows.map(\.latency.p50) + p99s.compactMap { $0 } + (sla.map { [$0] } ?? [])
        let (lo, hi) = (values.filter { $0 > 0 }.min() ?? 1, values.max() ?? 1)
        // Overload sends P99 up by orders of magnitude: a log axis keeps the knee readable.
        let y =
            hi / lo >= 20
            ? PlotAxis.logarithmic(lo, hi, from: s.height - s.bottom, to: s.top)
            : PlotAxis.linear(0, hi * 1.05, from: s.height - s.bottom, to: s.top)
        let x = PlotAxis.linear(0, (rows.map(\.step.achievedQPS).max() ?? 1) * 1.05, from: s.left, to: s.width - s.right)
        var svg = SVGCanvas(width: s.width, height: s.height)
        svg.yAxis(y, left: s.left, right: s.width - s.right, title: t.windowLatencyAxis)
        let base = s.height - s.bottom
        svg.line(s.left, base, s.width - s.right, base, stroke: "#6b7280")
        let ticks = x.ticks()
        for (tick, label) in zip(ticks, Format.ticks(ticks)) { svg.text(x.position(tick), base + 16, label, anchor: .middle, className: "tick") }
        svg.text((s.left + s.width - s.right) / 2, s.height - 6, t.achievedAxis, anchor: .middle, className: "axis")
        if let sla { svg.line(s.left, y.position(sla), s.width - s.right, y.position(sla), stroke: colors.sla, width: 1.5, dash: "6 4") }
        for (name, color, value) in [("P50", colors.p50, rows.map { Optional($0.latency.p50) }), ("P99", colors.p99, p99s)] {
            let points = zip(rows, value).compactMap { row, v in v.map { (row, $0) } }
            svg.polyline(points.map { (x.position($0.0.step.achievedQPS), y.position($0.1)) }, stroke: color)
            for (row, v) in points {
                let tip = t.punctuated(
                    "\(t.stepColumn)\(row.index + 1) \(t.scenario(row.step.scenario)): \(name) \(Format.ms(v)) ms, \(Format.qps(row.step.achievedQPS))/s")
                svg.circle(x.position(row.step.achievedQPS), y.position(v), fill: color, title: tip)
            }
        }
        var legend = [LoadTimelineChart.swatch("P50", colors.p50), LoadTimelineChart.swatch("P99", colors.p99)]
        if let sla { legend.append(LoadTimelineChart.swatch("\(t.slaLegend) (\(Format.trimmed(sla)) ms)", colors.sla, dash: "6 4")) }
        if p99s.contains(where: { $0 == nil }) { legend.append("<li>\(HTML.escape(t.kneeFewForP99))</li>") }
        return HTMLChartSection.figure(kind: "load-knee", caption: t.kneeChart, svg: svg.render(label: t.kneeChart), legend: [], extra: legend.joined())
    }
}
