import Foundation

/// Latency per measured chunk over time, with GPU utilization and power (or, without a GPU,
/// the host's CPU utilization) beneath on the same time axis: what the machine was doing
/// when a chunk was slow.
///
/// Not drawn (nil, not an error) when the cells carry no chunk windows (results from before
/// they were recorded) or no samples.
enum TimelineChart {
    /// Colours outside the series palette, so the machine's lines are never read as a variant.
    static let machineColor = "#374151"
    static let powerColor = "#7c3aed"
    static let size = (width: 900.0, top: 14.0, latencyHeight: 200.0, gap: 34.0, machineHeight: 110.0, bottom: 40.0, left: 64.0, right: 16.0)

    struct Chunk {
        var cell: CellResult
        var t: Double
        var p50: Double
        var max: Double
    }

    static func chunks(_ cell: CellResult) -> [Chunk] {
        guard let windows = cell.measurement?.chunkWindows, let sizes = cell.measurement?.chunkSizes,
            let samples = cell.samplesNS, windows.count == sizes.count, sizes.reduce(0, +) == samples.count
        else { return [] }
        var start = 0
        return zip(windows, sizes).compactMap { window, n in
            defer { start += n }
            guard n > 0, window.count == 2 else { return nil }
            let ms = samples[start..<start + n].map { Double($0) / 1e6 }
            return Chunk(cell: cell, t: (window[0] + window[1]) / 2, p50: Statistics.median(ms), max: ms.max() ?? 0)
        }
    }

    static func render(_ input: ChartInput) -> String? {
        let all = input.cells.flatMap(chunks)
        guard all.count >= 2, let t0 = all.map(\.t).min(), let t1 = all.map(\.t).max(), t1 > t0 else { return nil }
        let s = size
        let height = s.top + s.latencyHeight + s.gap + s.machineHeight + s.bottom
        let x = PlotAxis.linear(0, t1 - t0, from: s.left, to: s.width - s.right)
        let latencyTop = all.map(\.max).max() ?? 1
        let y = PlotAxis.linear(0, latencyTop, from: s.top + s.latencyHeight, to: s.top)
        var svg = SVGCanvas(width: s.width, height: height)
        // Each chunk's p50 and its max: the axis is latency, not only p50.
        svg.yAxis(y, left: s.left, right: s.width - s.right, title: input.text.spectrumAxis)
        for name in input.seriesNames {
            let mine = all.filter { input.seriesName($0.cell) == name }.sorted { $0.t < $1.t }
            guard let color = mine.first.map({ input.color($0.cell) }) else { continue }
            for c in mine {
                let px = x.position(c.t - t0)
                svg.line(px, y.position(c.p50), px, y.position(c.max), stroke: color, width: 1)
                svg.circle(
                    px, y.position(c.p50), r: 2.5, fill: color,
                    title: "\(name) bs\(c.cell.variant.batchSize): chunk p50 \(Format.tick(c.p50)) ms, max \(Format.tick(c.max)) ms")
            }
        }
        // The machine beneath, on the same time axis.
        let machineTop = s.top + s.latencyHeight + s.gap
        let m = PlotAxis.linear(0, 100, from: machineTop + s.machineHeight, to: machineTop)
        svg.yAxis(m, left: s.left, right: s.width - s.right, title: "%")
        let legend = input.legend(of: input.cells)
        // The machine's lines are told apart from the series by colour and by dashes.
        var machineLegend: [String] = []
        let lo = t0 - 0.5, hi = t1 + 0.5
        func inRange(_ t: Double) -> Bool { t >= lo && t <= hi }
        if let gpu = input.telemetry?.gpu.filter({ inRange($0.t) }), !gpu.isEmpty {
            let util = gpu.compactMap { g in g.smUtil.map { (x.position(g.t - t0), m.position($0)) } }
            svg.polyline(util, stroke: machineColor, width: 1.5)
            let power = gpu.compactMap { g -> (Double, Double)? in
                guard let w = g.powerW, let limit = g.powerLimitW, limit > 0 else { return nil }
                return (x.position(g.t - t0), m.position(100 * w / limit))
            }
            svg.polyline(power, stroke: powerColor, width: 1.5, dash: "4 3")
            machineLegend = [
                LoadTimelineChart.swatch(input.text.gpuUtilLegend, machineColor), LoadTimelineChart.swatch(input.text.gpuPowerLegend, powerColor, dash: "4 3"),
            ]
        } else if let host = input.telemetry?.host.filter({ inRange($0.t) }), !host.isEmpty {
            svg.polyline(host.compactMap { h in h.cpuUtil.map { (x.position(h.t - t0), m.position($0)) } }, stroke: machineColor, width: 1.5)
            machineLegend = [LoadTimelineChart.swatch(input.text.hostCPULegend, machineColor)]
        }
        svg.line(s.left, height - s.bottom, s.width - s.right, height - s.bottom, stroke: "#6b7280")
        for tick in x.ticks() {
            svg.text(x.position(tick), height - s.bottom + 16, Format.tick(tick), anchor: .middle, className: "tick")
        }
        svg.text((s.left + s.width - s.right) / 2, height - 6, input.text.secondsAxis, anchor: .middle, className: "axis")
        let caption = input.text.timelineChart
        return HTMLChartSection.figure(kind: "timeline", caption: caption, svg: svg.render(label: caption), legend: legend, extra: machineLegend.joined())
    }
}
