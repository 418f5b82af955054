import Foundation

/// Speedup over eager (at the same precision, the tables' baseline, named above the 1.0 line)
/// as bars from 1.0 on a logarithmic axis (so 0.5× and 2× are equally
/// long), with the 95% interval as whiskers. Green: significantly faster; red:
/// significantly slower; grey: no significant difference.
enum SpeedupChart {
    static func render(_ input: ChartInput) -> String? {
        let rows = input.cells.compactMap { cell in input.comparisons[cell.id].map { (cell, $0) } }
        guard !rows.isEmpty else { return nil }
        // The baseline each bar is against, named as the tables name it.
        let baselines = rows.map { row in input.cells.first { $0.id == row.1.baseline }?.variant.family ?? "eager" }
        let only = Set(baselines).count == 1 ? baselines[0] : nil
        let labels = rows.map { "\(input.seriesName($0.0)) bs\($0.0.variant.batchSize)" }
        let rowHeight = 26.0, top = 24.0, bottom = 42.0, right = 84.0, width = 600.0
        let left = min(260, max(110, Double(labels.map(\.count).max() ?? 0) * 6.8 + 16))
        let height = top + rowHeight * Double(rows.count) + bottom
        let finite = rows.flatMap { [$0.1.ratio, $0.1.ci95.lower, $0.1.ci95.upper] }.filter { $0.isFinite && $0 > 0 }
        let x = PlotAxis.logarithmic(min(finite.min() ?? 1, 1), max(finite.max() ?? 1, 1), from: left, to: width - right)
        var svg = SVGCanvas(width: width, height: height)
        let baseY = height - bottom
        for tick in x.ticks() {
            let px = x.position(tick)
            svg.line(px, top, px, baseY, stroke: "#e5e7eb")
            svg.text(px, baseY + 16, Format.tick(tick) + "×", anchor: .middle, className: "tick")
        }
        svg.line(left, baseY, width - right, baseY, stroke: "#6b7280")
        svg.text((left + width - right) / 2, height - 6, input.text.speedupAxis, anchor: .middle, className: "axis")
        let one = x.position(1)
        for (i, (_, c)) in rows.enumerated() {
            let mid = top + rowHeight * (Double(i) + 0.5)
            // Verdict colours, deliberately unlike the series palette of the other charts.
            let color = !c.significant ? "#9ca3af" : c.ratio >= 1 ? "#1a7f37" : "#cf222e"
            let end = x.position(c.ratio)
            svg.rect(
                min(one, end), mid - 7, abs(end - one), 14, fill: color,
                title: "\(labels[i]): \(Format.ratio(c.ratio, c.ci95.lower, c.ci95.upper)) vs \(baselines[i])")
            svg.whisker(x.position(c.ci95.lower), mid, x.position(c.ci95.upper), mid, stroke: "#374151", cap: 5)
            svg.text(left - 8, mid + 4, labels[i], anchor: .end, className: "label")
            let value = Format.factor(c.ratio) + "×" + (c.significant ? "" : " " + input.text.notSignificant)
            svg.text(width - right + 8, mid + 4, value, className: "value")
        }
        svg.line(one, top - 6, one, baseY, stroke: "#111827", width: 1.5, dash: "4 3")
        svg.text(one, top - 10, "1.0 = " + (only ?? input.text.eagerSamePrecision), anchor: .middle, className: "tick")
        return HTMLChartSection.figure(kind: "speedup", caption: input.text.speedupChart, svg: svg.render(label: input.text.speedupChart), legend: [])
    }
}
