import Foundation

/// Formatting shared by the Markdown, HTML and compare reports. Every language uses the
/// same digits: only words are translated.
extension Format {
    /// A whole number with thousands separators: `4,100`. Rounded up, since it counts calls.
    public static func count(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let digits = String(Int64(value.rounded(.up)).magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A ratio with its interval: `2.31× [2.25–2.37]`.
    public static func ratio(_ ratio: Double, _ lower: Double, _ upper: Double) -> String {
        "\(factor(ratio))× [\(factor(lower))–\(factor(upper))]"
    }

    /// A ratio alone, two decimals (`inf` stays readable).
    public static func factor(_ value: Double) -> String {
        guard value.isFinite else { return value > 0 ? "∞" : "-" }
        return String(format: "%.2f", value)
    }

    /// Megabytes: `812`, `12.5`, `1,536`.
    public static func megabytes(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return value >= 1000 ? count(value) : (value >= 10 ? String(format: "%.0f", value) : String(format: "%.1f", value))
    }

    /// A signed percentage change: `+20.1%`, `-3.0%`.
    public static func change(_ ratio: Double) -> String {
        guard ratio.isFinite else { return "-" }
        return String(format: "%+.1f%%", (ratio - 1) * 100)
    }

    /// An axis tick: `0.5`, `12`, `2.5k`, `1.2M`.
    public static func tick(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e6 { return trimmed(value / 1e6) + "M" }
        if magnitude >= 1e4 { return trimmed(value / 1e3) + "k" }
        return trimmed(value)
    }

    /// The ticks of one axis in one unit: `0`, `5k`, `10k`, `15k`, never `5000` beside `10k`.
    public static func ticks(_ values: [Double]) -> [String] {
        let top = values.map(abs).max() ?? 0
        let (unit, suffix) = top >= 1e6 ? (1e6, "M") : top >= 1e4 ? (1e3, "k") : (1, "")
        return values.map { $0 == 0 ? "0" : trimmed($0 / unit) + suffix }
    }

    static func trimmed(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A number written in full for machines (CSV): shortest round-trip text, empty when absent.
    public static func raw(_ value: Double?) -> String {
        guard let value else { return "" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension Variant {
    /// The label without the batch size (`default/fp16/cl`): the series a batch sweep draws.
    public var family: String {
        label.replacingOccurrences(of: "/bs\(batchSize)", with: "")
    }
}
