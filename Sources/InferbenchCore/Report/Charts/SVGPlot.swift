import Foundation

/// A numeric axis from data values to pixels, linear or logarithmic, with readable ticks.
struct PlotAxis {
    var lower: Double
    var upper: Double
    var log: Bool
    /// Pixel positions of `lower` and `upper` (`to` may be smaller than `from`, for y).
    var from: Double
    var to: Double

    /// A linear axis over `[min, max]` widened to round steps; from zero when asked.
    static func linear(_ min: Double, _ max: Double, from: Double, to: Double, includeZero: Bool = true) -> PlotAxis {
        var lo = includeZero ? Swift.min(0, min) : min
        var hi = Swift.max(max, lo)
        if hi - lo <= 0 { hi = lo == 0 ? 1 : lo * 1.1 + 1e-9; lo = includeZero ? lo : lo * 0.9 }
        let step = niceStep((hi - lo) / 5)
        return PlotAxis(lower: (lo / step).rounded(.down) * step, upper: (hi / step).rounded(.up) * step, log: false, from: from, to: to)
    }

    /// A logarithmic axis over `[min, max]` with a little room on both sides.
    static func logarithmic(_ min: Double, _ max: Double, from: Double, to: Double) -> PlotAxis {
        let lo = Swift.max(min, 1e-9), hi = Swift.max(max, lo * 1.01)
        return PlotAxis(lower: lo / 1.15, upper: hi * 1.15, log: true, from: from, to: to)
    }

    /// 1, 2 or 5 times a power of ten, the nearest above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
    }

    func position(_ value: Double) -> Double {
        let t: Double
        if log {
            let v = Swift.min(Swift.max(value, lower), upper)
            t = (Foundation.log(v) - Foundation.log(lower)) / (Foundation.log(upper) - Foundation.log(lower))
        } else {
            t = upper > lower ? (Swift.min(Swift.max(value, lower), upper) - lower) / (upper - lower) : 0
        }
        return from + t * (to - from)
    }

    /// Tick values at least `minSpacing` pixels apart, so their labels never overlap.
    func ticks(minSpacing: Double = 44) -> [Double] {
        func spaced(_ values: [Double]) -> Bool {
            zip(values, values.dropFirst()).allSatisfy { abs(position($1) - position($0)) >= minSpacing }
        }
        guard log else {
            var step = Self.niceStep((upper - lower) / 5)
            while true {
                let values = stride(from: lower, through: upper + step / 2, by: step).map { ($0 / step).rounded() * step }
                if spaced(values) || values.count <= 2 { return values }
                step = Self.niceStep(step * 1.5)
            }
        }
        // From sparse to dense: the densest set whose labels still fit.
        let mantissas: [[Double]] = [[1], [1, 2, 5], [1, 1.5, 2, 3, 5, 7], [1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 4, 5, 6, 7, 8, 9]]
        let exponents = Int(log10(lower).rounded(.down))...Int(log10(upper).rounded(.up))
        var chosen: [Double] = []
        for set in mantissas {
            let values = exponents.flatMap { e in set.map { $0 * pow(10, Double(e)) } }.filter { $0 >= lower && $0 <= upper }
            guard spaced(values) else { break }
            chosen = values
            if values.count >= 5 { break }
        }
        if chosen.isEmpty {
            // Many decades: every k-th power of ten.
            let decades = exponents.map { pow(10, Double($0)) }.filter { $0 >= lower && $0 <= upper }
            let k = max(1, Int((Double(decades.count) * minSpacing / abs(to - from)).rounded(.up)))
            chosen = decades.enumerated().filter { $0.offset % k == 0 }.map(\.element)
        }
        return chosen
    }
}

/// An SVG drawing built element by element; every text is escaped.
struct SVGCanvas {
    var width: Double
    var height: Double
    var body = ""

    static func n(_ value: Double) -> String { Format.trimmed((value * 10).rounded() / 10) }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#9ca3af", width: Double = 1, dash: String? = nil) {
        body +=
            "<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\""
        body += (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        guard points.count > 1 else { return }
        let list = points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
        body += "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\""
        body += (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
    }

    mutating func circle(_ x: Double, _ y: Double, r: Double = 3.5, fill: String, title: String? = nil) {
        body += "<circle cx=\"\(Self.n(x))\" cy=\"\(Self.n(y))\" r=\"\(Self.n(r))\" fill=\"\(fill)\">"
        body += (title.map { "<title>\(HTML.escape($0))</title>" } ?? "") + "</circle>"
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, title: String? = nil) {
        body += "<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(Swift.max(w, 0)))\" height=\"\(Self.n(Swift.max(h, 0)))\" fill=\"\(fill)\">"
        body += (title.map { "<title>\(HTML.escape($0))</title>" } ?? "") + "</rect>"
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ x: Double, _ y: Double, _ string: String, anchor: Anchor = .start, className: String? = nil, rotate: Bool = false) {
        let transform = rotate ? " transform=\"rotate(-90 \(Self.n(x)) \(Self.n(y)))\"" : ""
        let cls = className.map { " class=\"\($0)\"" } ?? ""
        body += "<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" text-anchor=\"\(anchor.rawValue)\"\(cls)\(transform)>\(HTML.escape(string))</text>"
    }

    /// A vertical interval with caps (a whisker), or a horizontal one.
    mutating func whisker(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, cap: Double = 4) {
        line(x1, y1, x2, y2, stroke: stroke, width: 1.5)
        if x1 == x2 {
            line(x1 - cap, y1, x1 + cap, y1, stroke: stroke, width: 1.5)
            line(x2 - cap, y2, x2 + cap, y2, stroke: stroke, width: 1.5)
        } else {
            line(x1, y1 - cap, x1, y1 + cap, stroke: stroke, width: 1.5)
            line(x2, y2 - cap, x2, y2 + cap, stroke: stroke, width: 1.5)
        }
    }

    /// Horizontal grid lines and labels for a y axis, and its title written upwards.
    mutating func yAxis(_ axis: PlotAxis, left: Double, right: Double, title: String) {
        let ticks = axis.ticks(minSpacing: 22)
        // One unit per linear axis ("5k" beside "10k"); a log axis spans decades, each tick its own.
        let labels = axis.log ? ticks.map(Format.tick) : Format.ticks(ticks)
        for (tick, label) in zip(ticks, labels) {
            let y = axis.position(tick)
            line(left, y, right, y, stroke: "#e5e7eb")
            text(left - 6, y + 4, label, anchor: .end, className: "tick")
        }
        text(14, (axis.from + axis.to) / 2, title, anchor: .middle, className: "axis", rotate: true)
    }

    func render(label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\" role=\"img\" aria-label=\"\(HTML.escape(label))\">\(body)</svg>"
    }
}
