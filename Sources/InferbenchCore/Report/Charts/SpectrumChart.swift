import Foundation

/// The latency distribution of every cell: p50, p90, p95, p99 and p99.9 on an axis that
/// spreads the tail (position −log10(1 − p)), one line per cell; colour is the variant,
/// dashes are the batch size. A grid of many cells (three batch sizes or more, over nine
/// cells: the guide's 6 variants × 5 batches draws 30 lines) is drawn as small multiples
/// instead, one panel per batch size on a shared latency axis, across the page.
enum SpectrumChart {
    static let percentiles: [(Double, String)] = [(50, "p50"), (90, "p90"), (95, "p95"), (99, "p99"), (99.9, "p99.9")]
    /// Solid, dashed, dotted, dash-dot, dash-dot-dot: five batch sizes that stay apart in the legend.
    static let dashes: [String?] = [nil, "7 4", "2 3", "9 3 2 3", "9 3 2 3 2 3"]

    static func values(_ l: LatencySummary) -> [Double] { [l.p50, l.p90, l.p95, l.p99, l.p999] }

    /// The percentiles the cell's samples support (P99 from 40 samples is their maximum, not
    /// a P99: it is left out of the line, as it is shown as "—" in the tables).
    static func points(_ l: LatencySummary) -> [(p: Double, name: String, value: Double)] {
        zip(percentiles, values(l)).filter { l.supports(percentile: $0.0.0) }.map { ($0.0.0, $0.0.1, $0.1) }
    }

    /// The latency axis over every cell's percentiles: logarithmic once they span 8× or more.
    static func latencyAxis(_ cells: [CellResult], from: Double, to: Double) -> PlotAxis {
        let all = cells.flatMap { points($0.latencyMS!).map(\.value) }.filter { $0 > 0 }
        let lo = all.min() ?? 1, hi = all.max() ?? 1
        return hi / lo >= 8 ? PlotAxis.logarithmic(lo, hi, from: from, to: to) : PlotAxis.linear(0, hi, from: from, to: to)
    }

    static func render(_ input: ChartInput) -> String? {
        let cells = input.cells.filter { $0.latencyMS != nil }
        guard !cells.isEmpty else { return nil }
        let batches = ReportData.batches(cells)
        if batches.count >= 3 && cells.count > 9 { return panels(input, cells: cells, batches: batches) }
        let width = 600.0, height = 300.0, left = 64.0, right = 24.0, top = 14.0, bottom = 44.0
        let y = latencyAxis(cells, from: height - bottom, to: top)
        let x = PlotAxis.linear(-log10(0.5), 3, from: left + 24, to: width - right - 16, includeZero: false)
        func px(_ p: Double) -> Double { x.position(-log10(1 - p / 100)) }
        var svg = SVGCanvas(width: width, height: height)
        svg.yAxis(y, left: left, right: width - right, title: input.text.spectrumAxis)
        svg.line(left, height - bottom, width - right, height - bottom, stroke: "#6b7280")
        for (p, name) in percentiles { svg.text(px(p), height - bottom + 16, name, anchor: .middle, className: "tick") }
        svg.text((left + width - right) / 2, height - 6, input.text.percentileAxis, anchor: .middle, className: "axis")
        func dash(_ batch: Int) -> String? { dashes[(batches.firstIndex(of: batch) ?? 0) % dashes.count] }
        for cell in cells {
            let color = input.color(cell)
            let v = points(cell.latencyMS!)
            svg.polyline(v.map { (px($0.p), y.position($0.value)) }, stroke: color, dash: dash(cell.variant.batchSize))
            for (p, name, value) in v {
                svg.circle(
                    px(p), y.position(value), r: 2.5, fill: color,
                    title: "\(input.seriesName(cell)) bs\(cell.variant.batchSize) \(name): \(Format.ms(value)) ms")
            }
        }
        let legend = input.legend(of: cells)
        var extra = ""
        if batches.count > 1 {
            extra = batches.map { b in
                let d = dash(b).map { " stroke-dasharray=\"\($0)\"" } ?? ""
                return
                    "<li><svg class=\"dash\" viewBox=\"0 0 32 8\"><line x1=\"0\" y1=\"4\" x2=\"32\" y2=\"4\" stroke=\"#374151\" stroke-width=\"2\"\(d)/></svg>\(HTML.escape(input.text.batch)) \(b)</li>"
            }.joined()
        }
        return HTMLChartSection.figure(
            kind: "spectrum", caption: input.text.spectrumChart, svg: svg.render(label: input.text.spectrumChart), legend: legend, extra: extra)
    }

    /// One panel per batch size, at most five to a row, sharing one latency axis per row.
    static func panels(_ input: ChartInput, cells: [CellResult], batches: [Int]) -> String {
        let columns = min(batches.count, 5), rows = (batches.count + columns - 1) / columns
        let left = 64.0, right = 12.0, panelWidth = 220.0, gap = 14.0, rowHeight = 230.0, top = 26.0, bottom = 40.0
        let width = left + Double(columns) * panelWidth + Double(columns - 1) * gap + right
        var svg = SVGCanvas(width: width, height: Double(rows) * rowHeight)
        for (index, batch) in batches.enumerated() {
            let row = Double(index / columns), column = Double(index % columns)
            let y0 = row * rowHeight
            let y = latencyAxis(cells, from: y0 + rowHeight - bottom, to: y0 + top)
            let x0 = left + column * (panelWidth + gap)
            if index % columns == 0 { svg.yAxis(y, left: left, right: width - right, title: input.text.spectrumAxis) }
            let x = PlotAxis.linear(-log10(0.5), 3, from: x0 + 14, to: x0 + panelWidth - 16, includeZero: false)
            func px(_ p: Double) -> Double { x.position(-log10(1 - p / 100)) }
            svg.line(x0, y0 + rowHeight - bottom, x0 + panelWidth, y0 + rowHeight - bottom, stroke: "#6b7280")
            if column > 0 { svg.line(x0 - gap / 2, y0 + top, x0 - gap / 2, y0 + rowHeight - bottom, stroke: "#d1d5db") }
            for (p, name) in percentiles where p != 95 {  // p95 sits too close to p90 and p99 to label at this width
                svg.text(px(p), y0 + rowHeight - bottom + 15, name, anchor: .middle, className: "tick")
            }
            svg.text(x0 + panelWidth / 2, y0 + top - 10, "\(input.text.batch) \(batch)", anchor: .middle, className: "axis")
            for cell in cells where cell.variant.batchSize == batch {
                let color = input.color(cell)
                let v = points(cell.latencyMS!)
                svg.polyline(v.map { (px($0.p), y.position($0.value)) }, stroke: color)
                for (p, name, value) in v {
                    svg.circle(px(p), y.position(value), r: 2.5, fill: color, title: "\(input.seriesName(cell)) bs\(batch) \(name): \(Format.ms(value)) ms")
                }
            }
        }
        let legend = input.legend(of: cells)
        return HTMLChartSection.figure(
            kind: "spectrum", caption: input.text.spectrumChart, svg: svg.render(label: input.text.spectrumChart), legend: legend, wide: true)
    }
}
