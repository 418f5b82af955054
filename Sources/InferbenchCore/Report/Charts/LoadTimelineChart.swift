import Foundation

/// A load test over time, one window per point: offered and achieved rate, P50 and P99, and
/// beneath, on the same time axis, GPU utilization and power (or, without a GPU, the host's
/// CPU). Each step is a shaded band labelled with its number and rate; with an SLA, bands are
/// green where the step passed and red where it failed, and the SLA is a line on the latency
/// panel; a ramp draws its target rate.
///
/// Not drawn (nil, not an error) with fewer than two windows, or windows that cannot be
/// placed in time (results written before windows carried `start`/`end` and steps `phase_start`).
enum LoadTimelineChart {
    static let size = (
        width: 900.0, top: 24.0, rateHeight: 150.0, gap: 30.0, latencyHeight: 160.0, machineHeight: 100.0, bottom: 40.0, left: 64.0, right: 16.0
    )
    static let colors = (
        offered: "#E69F00", achieved: "#0072B2", p50: "#009E73", p99: "#D55E00", sla: "#b91c1c", machine: "#374151", power: "#CC79A7",
        ramp: "#6b7280", drops: "#b91c1c"
    )

    /// A window placed on the monotonic clock.
    struct Point {
        var step: Int
        var start: Double
        var end: Double
        var window: LoadTestResult.Window
        var mid: Double { (start + end) / 2 }
    }

    /// A step's extent on the monotonic clock, and its windows.
    struct Band {
        var index: Int
        var step: LoadTestResult
        var start: Double
        var end: Double
        var points: [Point]
    }

    /// The steps that have windows to draw. A step's last window is left out when it is under a
    /// quarter of the others' length: it holds the drain after the step's end, and a rate over
    /// a sliver of time says little.
    ///
    /// Steps never overlap: results written before an early-stopped step recorded how long it
    /// really ran claim the planned length, which would pile its band, label and windows onto
    /// the steps after it; such a step is cut where the next one starts.
    static func bands(_ steps: [LoadTestResult]) -> [Band] {
        var bands = placed(steps)
        for i in bands.indices.dropLast() where bands[i + 1].start < bands[i].end {
            let cut = max(bands[i + 1].start, bands[i].start)
            bands[i].end = cut
            // Windows wholly past the cut are dropped (they would pile up at it); one that
            // straddles it is clamped.
            let kept = bands[i].points.filter { $0.start < cut }
            bands[i].points = kept.isEmpty ? Array(bands[i].points.prefix(1)) : kept
            for j in bands[i].points.indices {
                bands[i].points[j].start = min(bands[i].points[j].start, cut)
                bands[i].points[j].end = min(bands[i].points[j].end, cut)
            }
        }
        return bands
    }

    static func placed(_ steps: [LoadTestResult]) -> [Band] {
        steps.enumerated().compactMap { index, step in
            var windows = step.windows
            if windows.count >= 2, let last = windows.last, last.seconds < 0.25 * (windows.dropLast().map(\.seconds).max() ?? 0) {
                windows.removeLast()
            }
            let points = windows.compactMap { w -> Point? in
                if let start = w.start, let end = w.end { return Point(step: index, start: start, end: end, window: w) }
                guard let phase = step.phaseStart else { return nil }
                return Point(step: index, start: phase + w.t, end: phase + w.t + w.seconds, window: w)
            }
            guard let first = points.first, let last = points.last else { return nil }
            return Band(index: index, step: step, start: min(step.phaseStart ?? first.start, first.start), end: last.end, points: points)
        }
    }

    static func render(_ results: RunResults, _ t: ReportText) -> String? {
        let bands = bands(results.loadTests)
        let points = bands.flatMap(\.points)
        guard points.count >= 2, let t0 = bands.map(\.start).min(), let t1 = bands.map(\.end).max(), t1 > t0 else { return nil }
        let s = size
        let rateTop = s.top
        let latencyTop = rateTop + s.rateHeight + s.gap
        let machineTop = latencyTop + s.latencyHeight + s.gap
        let height = machineTop + s.machineHeight + s.bottom
        // Time runs exactly from the first step's start to the last one's end: no empty margin.
        let x = PlotAxis(lower: 0, upper: t1 - t0, log: false, from: s.left, to: s.width - s.right)
        func px(_ time: Double) -> Double { x.position(time - t0) }
        var svg = SVGCanvas(width: s.width, height: height)
        let sla = results.load?.slaP99MS
        drawBands(bands, &svg, px: px, panels: [(rateTop, s.rateHeight), (latencyTop, s.latencyHeight), (machineTop, s.machineHeight)], t)
        // Legend entries in reading order: rate, latency, machine, steps.
        var legend: [String] = []

        // Offered and achieved rate.
        let ramps = bands.compactMap { b in b.step.rampQPS.map { (b, $0) } }
        let rateMax = (points.flatMap { [$0.window.qps, $0.window.offeredQPS ?? 0] } + ramps.flatMap(\.1) + bands.compactMap(\.step.targetQPS)).max() ?? 1
        let rate = PlotAxis.linear(0, rateMax * 1.05, from: rateTop + s.rateHeight, to: rateTop)
        svg.yAxis(rate, left: s.left, right: s.width - s.right, title: t.rateAxis)
        for (band, ramp) in ramps where ramp.count == 2 {
            svg.line(px(band.start), rate.position(ramp[0]), px(band.end), rate.position(ramp[1]), stroke: colors.ramp, width: 1.5, dash: "2 3")
        }
        let dots = points.count <= 240
        var drewOffered = false
        for band in bands {
            // Offered on top, dashed: where the two agree, both stay visible. It is a rate over
            // each window, so a level across the window (visible even for a one-window step);
            // results without per-window offered rates fall back to the step's target.
            let target = band.step.rampQPS == nil ? band.step.targetQPS : nil
            let offered = band.points.compactMap { p in
                (p.window.offeredQPS ?? target).map { [(px(p.start), rate.position($0)), (px(p.end), rate.position($0))] }
            }
            svg.polyline(band.points.map { (px($0.mid), rate.position($0.window.qps)) }, stroke: colors.achieved, width: 2)
            svg.polyline(offered.flatMap { $0 }, stroke: colors.offered, width: 1.5, dash: "5 3")
            drewOffered = drewOffered || !offered.isEmpty
            for p in band.points {
                let w = p.window
                var tip = "\(t.stepColumn)\(band.index + 1), \(Format.tick(p.start - t0))–\(Format.tick(p.end - t0)) s: "
                tip += "\(t.achievedLegend) \(Format.rate(w.qps))/s"
                if let offered = w.offeredQPS { tip += ", \(t.offeredLegend) \(Format.rate(offered))/s" }
                if dots { svg.circle(px(p.mid), rate.position(w.qps), r: 2.2, fill: colors.achieved, title: tip) }
                if w.errors > 0 {
                    svg.circle(
                        px(p.mid), rateTop + s.rateHeight - 4, r: 3.5, fill: colors.drops,
                        title: "\(Format.tick(p.start - t0))–\(Format.tick(p.end - t0)) s: \(w.errors) \(t.droppedColumn)/\(t.errorsColumn)")
                }
            }
        }
        // Closed-loop results written before windows carried offered rates have none to show.
        if drewOffered { legend.append(swatch(t.offeredLegend, colors.offered, dash: "5 3")) }
        legend.append(swatch(t.achievedLegend, colors.achieved))
        if !ramps.isEmpty { legend.append(swatch(t.rampLegend, colors.ramp, dash: "2 3")) }
        if points.contains(where: { $0.window.errors > 0 }) { legend.append(swatch(t.dropsLegend, colors.drops)) }

        // P50 and P99 per window, on a log axis when they span a wide range (overload does).
        let latencies =
            points.flatMap { [$0.window.p50, $0.window.supportsP99 ? $0.window.p99 : nil] }.compactMap { $0 }.filter { $0 > 0 } + (sla.map { [$0] } ?? [])
        if let lo = latencies.min(), let hi = latencies.max() {
            let y =
                hi / lo >= 20
                ? PlotAxis.logarithmic(lo, hi, from: latencyTop + s.latencyHeight, to: latencyTop)
                : PlotAxis.linear(0, hi * 1.05, from: latencyTop + s.latencyHeight, to: latencyTop)
            svg.yAxis(y, left: s.left, right: s.width - s.right, title: t.windowLatencyAxis)
            if let sla {
                svg.line(s.left, y.position(sla), s.width - s.right, y.position(sla), stroke: colors.sla, width: 1.5, dash: "6 4")
            }
            for band in bands {
                for (name, color, value) in [("P50", colors.p50, \LoadTestResult.Window.p50), ("P99", colors.p99, \LoadTestResult.Window.p99)] {
                    // A window's P99 from fewer than 100 requests is their maximum: not drawn.
                    let mine = band.points.filter { name == "P50" || $0.window.supportsP99 }.compactMap { p in p.window[keyPath: value].map { (p, $0) } }
                    svg.polyline(mine.map { (px($0.0.mid), y.position($0.1)) }, stroke: color, width: 2)
                    guard dots else { continue }
                    for (p, v) in mine {
                        svg.circle(
                            px(p.mid), y.position(v), r: 2.2, fill: color,
                            title: "\(t.stepColumn)\(band.index + 1), \(Format.tick(p.start - t0))–\(Format.tick(p.end - t0)) s: \(name) \(Format.ms(v)) ms")
                    }
                }
            }
            legend += [swatch("P50", colors.p50), swatch("P99", colors.p99)]
            if let sla { legend.append(swatch("\(t.slaLegend) (\(Format.trimmed(sla)) ms)", colors.sla, dash: "6 4")) }
        }

        // The machine beneath.
        let m = PlotAxis.linear(0, 100, from: machineTop + s.machineHeight, to: machineTop)
        svg.yAxis(m, left: s.left, right: s.width - s.right, title: "%")
        legend += drawMachine(results.telemetry, points, &svg, from: t0, to: t1, px: px, y: m, t)

        svg.line(s.left, height - s.bottom, s.width - s.right, height - s.bottom, stroke: "#6b7280")
        for tick in x.ticks() where tick <= x.upper * 1.0001 {
            svg.text(x.position(tick), height - s.bottom + 16, Format.tick(tick), anchor: .middle, className: "tick")
        }
        svg.text((s.left + s.width - s.right) / 2, height - 6, t.secondsAxis, anchor: .middle, className: "axis")
        if bands.contains(where: { $0.step.slaMet != nil }) {
            legend += [swatch(t.passLegend, "#bbf7d0"), swatch(t.failLegend, "#fecaca")]
        }
        return HTMLChartSection.figure(
            kind: "load-timeline", caption: t.loadTimelineChart, svg: svg.render(label: t.loadTimelineChart), legend: [], extra: legend.joined())
    }

    /// The steps as shaded bands in each panel, each labelled above with its number and,
    /// where it fits, its rate or concurrency and SLA verdict.
    static func drawBands(_ bands: [Band], _ svg: inout SVGCanvas, px: (Double) -> Double, panels: [(top: Double, height: Double)], _ t: ReportText) {
        for band in bands {
            let left = px(band.start)
            let width = max(px(band.end) - left, 1)
            let fill: String
            switch band.step.slaMet {
            case true?: fill = "#f0fdf4"
            case false?: fill = "#fef2f2"
            case nil: fill = band.index % 2 == 0 ? "#f3f4f6" : "#f9fafb"
            }
            for panel in panels {
                svg.rect(left, panel.top, width, panel.height, fill: fill, title: "\(t.stepColumn)\(band.index + 1): \(t.scenario(band.step.scenario))")
                svg.line(left, panel.top, left, panel.top + panel.height, stroke: "#9ca3af", dash: "3 3")
            }
            let full = "\(band.index + 1) · \(shortLabel(band.step, t))"
            let number = "\(band.index + 1)"
            // About 6.6 units per character at the chart's 12 px font.
            let label = Double(full.count) * 6.6 + 6 <= width ? full : (Double(number.count) * 6.6 + 4 <= width ? number : nil)
            if let label { svg.text(left + width / 2, size.top - 9, label, anchor: .middle, className: "tick") }
        }
    }

    /// What distinguishes a step in a few characters: `120/s ✓`, `c=8`, `0→500/s`; `120/s ✗ ↻`
    /// for a repeat of a close pass.
    static func shortLabel(_ step: LoadTestResult, _ t: ReportText) -> String {
        var text: String
        if let ramp = step.rampQPS, ramp.count == 2 {
            text = "\(Format.tick(ramp[0]))→\(Format.tick(ramp[1]))/s"
        } else if let n = step.concurrency {
            text = "c=\(n)"
        } else if let target = step.targetQPS {
            text = "\(Format.rate(target))/s"
        } else {
            text = step.scenario
        }
        if let met = step.slaMet { text += met ? " ✓" : " ✗" }
        if step.sla?.repeatOf != nil { text += " ↻" }
        if step.partial == true { text += " …" }
        return text
    }

    /// GPU SM utilization and power (% of limit) from the run's samples, or the host's CPU;
    /// from the windows' own figures when the results carry no samples. Returns legend entries.
    static func drawMachine(
        _ telemetry: Timeline?, _ points: [Point], _ svg: inout SVGCanvas, from t0: Double, to t1: Double, px: (Double) -> Double, y: PlotAxis,
        _ t: ReportText
    ) -> [String] {
        let gpu = telemetry?.gpu.filter { $0.t >= t0 && $0.t <= t1 } ?? []
        if !gpu.isEmpty {
            for index in Set(gpu.map(\.gpu)).sorted() {
                let mine = gpu.filter { $0.gpu == index }
                svg.polyline(thinned(mine.compactMap { g in g.smUtil.map { (px(g.t), y.position($0)) } }), stroke: colors.machine, width: 1.5)
                let power = mine.compactMap { g -> (Double, Double)? in
                    guard let w = g.powerW, let limit = g.powerLimitW, limit > 0 else { return nil }
                    return (px(g.t), y.position(100 * w / limit))
                }
                svg.polyline(thinned(power), stroke: colors.power, width: 1.5, dash: "4 3")
            }
            return [swatch(t.gpuUtilLegend, colors.machine), swatch(t.gpuPowerLegend, colors.power, dash: "4 3")]
        }
        let host = telemetry?.host.filter { $0.t >= t0 && $0.t <= t1 } ?? []
        if !host.isEmpty {
            svg.polyline(thinned(host.compactMap { h in h.cpuUtil.map { (px(h.t), y.position($0)) } }), stroke: colors.machine, width: 1.5)
            return [swatch(t.hostCPULegend, colors.machine)]
        }
        // No samples in the results: the windows' means, one level per window.
        func steps(_ value: (LoadTestResult.Window) -> Double?) -> [[(Double, Double)]] {
            Dictionary(grouping: points, by: \.step).sorted { $0.key < $1.key }.map { _, mine in
                mine.compactMap { p in value(p.window).map { [(px(p.start), y.position($0)), (px(p.end), y.position($0))] } }.flatMap { $0 }
            }
        }
        let util = steps(\.gpuUtil)
        if util.contains(where: { !$0.isEmpty }) {
            for line in util { svg.polyline(line, stroke: colors.machine, width: 1.5) }
            return [swatch(t.gpuUtilLegend, colors.machine)]
        }
        let cpu = steps(\.hostCPUUtil)
        if cpu.contains(where: { !$0.isEmpty }) {
            for line in cpu { svg.polyline(line, stroke: colors.machine, width: 1.5) }
            return [swatch(t.hostCPULegend, colors.machine)]
        }
        return []
    }

    /// At most about two points per horizontal unit: a long test sampled every 100 ms keeps
    /// its shape without tens of thousands of points. Each kept point is its bucket's mean.
    static func thinned(_ points: [(Double, Double)], per unit: Double = 0.5) -> [(Double, Double)] {
        guard points.count > Int(size.width / unit) else { return points }
        var out: [(Double, Double)] = []
        var bucket: [(Double, Double)] = []
        var key = Double.nan
        for p in points {
            let k = (p.0 / unit).rounded(.down)
            if k != key, !bucket.isEmpty {
                out.append((bucket.map(\.0).reduce(0, +) / Double(bucket.count), bucket.map(\.1).reduce(0, +) / Double(bucket.count)))
                bucket = []
            }
            key = k
            bucket.append(p)
        }
        if !bucket.isEmpty {
            out.append((bucket.map(\.0).reduce(0, +) / Double(bucket.count), bucket.map(\.1).reduce(0, +) / Double(bucket.count)))
        }
        return out
    }

    /// A legend entry: a colour swatch, or a dashed line for series told apart by their dashes.
    static func swatch(_ label: String, _ color: String, dash: String? = nil) -> String {
        guard let dash else { return "<li><span class=\"swatch\" style=\"background:\(color)\"></span>\(HTML.escape(label))</li>" }
        return "<li><svg class=\"dash\" viewBox=\"0 0 32 8\"><line x1=\"0\" y1=\"4\" x2=\"32\" y2=\"4\" stroke=\"\(color)\" stroke-width=\"2\" "
            + "stroke-dasharray=\"\(dash)\"/></svg>\(HTML.escape(label))</li>"
    }
}
