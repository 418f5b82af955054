import Foundation

/// What a chart section sees of one model.
public struct ChartInput: Sendable {
    public var model: String
    /// The model's cells that measured something, in table order.
    public var cells: [CellResult]
    /// Speedups over eager keyed by the compiled cell's id.
    public var comparisons: [String: Comparison]
    public var text: ReportText
    public var multiEnvironment: Bool
    /// The run's GPU and host samples, for the timeline chart.
    public var telemetry: Timeline? = nil

    /// The cell's series name in legends: `default/fp32`, with `[env]` when several ran.
    public func seriesName(_ cell: CellResult) -> String {
        ReportData.name(Findings.series(cell), multiEnvironment: multiEnvironment)
    }

    /// Series names in order of appearance; their index picks the colour.
    public var seriesNames: [String] {
        var seen = Set<String>()
        return cells.map(seriesName).filter { seen.insert($0).inserted }
    }

    /// A legend entry (name, colour) per series that has a cell among `cells`, in series order.
    func legend(of cells: [CellResult]) -> [(String, String)] {
        seriesNames.compactMap { name in cells.first { seriesName($0) == name }.map { (name, color($0)) } }
    }

    public func color(_ cell: CellResult) -> String {
        HTMLChartSection.palette[(seriesNames.firstIndex(of: seriesName(cell)) ?? 0) % HTMLChartSection.palette.count]
    }
}

/// One chart drawn under each model's table in the HTML report: the extension point for
/// new charts (a telemetry timeline will read `measurement.phase_start/phase_end`).
///
/// `render` returns a whole `<figure>`, or nil when the model has nothing to draw (one batch
/// size, no compiled variant): that is not an error, the chart is simply left out.
public struct HTMLChartSection: Sendable {
    public var id: String
    public var render: @Sendable (ChartInput) -> String?

    public init(id: String, render: @escaping @Sendable (ChartInput) -> String?) {
        self.id = id
        self.render = render
    }

    /// Okabe–Ito colours, distinguishable with colour-blindness, on white.
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#8C564B"]

    /// The charts every report draws, in order.
    public static let standard: [HTMLChartSection] = [
        HTMLChartSection(id: "latency") { BatchCharts.latency($0) },
        HTMLChartSection(id: "throughput") { BatchCharts.throughput($0) },
        HTMLChartSection(id: "speedup") { SpeedupChart.render($0) },
        HTMLChartSection(id: "spectrum") { SpectrumChart.render($0) },
        HTMLChartSection(id: "timeline") { TimelineChart.render($0) },
    ]

    /// A figure: caption, drawing and an HTML legend (HTML wraps, so labels never overlap).
    /// `wide` spans the whole row of the chart grid.
    static func figure(kind: String, caption: String, svg: String, legend: [(String, String)], extra: String = "", wide: Bool = false) -> String {
        var out = "<figure class=\"chart chart-\(HTML.escape(kind))\(wide ? " wide" : "")\"><figcaption>\(HTML.escape(caption))</figcaption>\(svg)"
        if !legend.isEmpty || !extra.isEmpty {
            out += "<ul class=\"legend\">"
            out += legend.map { "<li><span class=\"swatch\" style=\"background:\($0.1)\"></span>\(HTML.escape($0.0))</li>" }.joined()
            out += extra + "</ul>"
        }
        return out + "</figure>"
    }
}

/// p50 latency and throughput against batch size, one line per variant.
enum BatchCharts {
    static let size = (width: 600.0, height: 300.0, left: 64.0, right: 16.0, top: 14.0, bottom: 44.0)

    static func latency(_ input: ChartInput) -> String? {
        draw(input, id: "latency", caption: input.text.latencyChart, axisTitle: input.text.latencyAxis) { cell in
            cell.latencyMS.map { ($0.p50, $0.ci95.p50.lower, $0.ci95.p50.upper) }
        }
    }

    static func throughput(_ input: ChartInput) -> String? {
        draw(input, id: "throughput", caption: input.text.throughputChart, axisTitle: input.text.throughputAxis) { cell in
            cell.throughputPerS.map { v in (v, cell.throughputCI95?.lower ?? v, cell.throughputCI95?.upper ?? v) }
        }
    }

    /// Batch sizes sit evenly spaced (1, 2, 8, 32 read better than on a linear axis).
    static func draw(_ input: ChartInput, id: String, caption: String, axisTitle: String, value: (CellResult) -> (Double, Double, Double)?) -> String? {
        let batches = ReportData.batches(input.cells)
        guard batches.count >= 2 else { return nil }
        let s = size
        let points = input.cells.compactMap { cell in value(cell).map { (cell, $0) } }
        guard !points.isEmpty else { return nil }
        let top = points.map { Swift.max($0.1.0, $0.1.2.isFinite ? $0.1.2 : $0.1.0) }.max() ?? 1
        let y = PlotAxis.linear(0, top, from: s.height - s.bottom, to: s.top)
        let slot = (s.width - s.left - s.right) / Double(batches.count)
        func x(_ batch: Int) -> Double { s.left + slot * (Double(batches.firstIndex(of: batch) ?? 0) + 0.5) }
        var svg = SVGCanvas(width: s.width, height: s.height)
        svg.yAxis(y, left: s.left, right: s.width - s.right, title: axisTitle)
        svg.line(s.left, s.height - s.bottom, s.width - s.right, s.height - s.bottom, stroke: "#6b7280")
        for b in batches { svg.text(x(b), s.height - s.bottom + 16, String(b), anchor: .middle, className: "tick") }
        svg.text((s.left + s.width - s.right) / 2, s.height - 6, input.text.batchAxis, anchor: .middle, className: "axis")
        for name in input.seriesNames {
            let mine = points.filter { input.seriesName($0.0) == name }.sorted { $0.0.variant.batchSize < $1.0.variant.batchSize }
            guard let color = mine.first.map({ input.color($0.0) }) else { continue }
            svg.polyline(mine.map { (x($0.0.variant.batchSize), y.position($0.1.0)) }, stroke: color)
            for (cell, v) in mine {
                let px = x(cell.variant.batchSize)
                svg.whisker(px, y.position(v.1), px, y.position(v.2), stroke: color)
                svg.circle(
                    px, y.position(v.0), fill: color,
                    title: "\(name) bs\(cell.variant.batchSize): \(Format.tick(v.0)) [\(Format.tick(v.1))–\(Format.tick(v.2))]")
            }
        }
        let legend = input.legend(of: input.cells)
        return HTMLChartSection.figure(kind: id, caption: caption, svg: svg.render(label: caption), legend: legend)
    }
}
