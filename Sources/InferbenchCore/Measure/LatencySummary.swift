import Foundation
import Histogram

/// Summary of latency samples in milliseconds; the `latency_ms` object of results.json.
public struct LatencySummary: Codable, Sendable, Equatable {
    public struct CI95: Codable, Sendable, Equatable {
        public var p50: Interval
        public var mean: Interval
    }
    public var n: Int
    public var mean: Double
    public var stddev: Double
    public var min: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var ci95: CI95

    /// The fewest samples that support percentile `q`: 1 / (1 − q), so that at least one sample
    /// lies beyond it (P99: 100, P99.9: 1,000). With fewer, the "P99" is the maximum.
    public static func minimumSamples(forPercentile q: Double) -> Int { Int((1 / (1 - q / 100)).rounded()) }

    /// Whether `samples` samples support percentile `q` (see ``minimumSamples(forPercentile:)``):
    /// the one rule of every table and chart, run and load alike.
    public static func supports(percentile q: Double, samples: Int) -> Bool { samples >= minimumSamples(forPercentile: q) }

    /// Whether `n` samples support percentile `q` (see ``minimumSamples(forPercentile:)``).
    public func supports(percentile q: Double) -> Bool { Self.supports(percentile: q, samples: n) }

    /// The percentile at `path` (`\.p99` for `q` 99) where the samples support it, else nil.
    public func supported(_ q: Double, _ path: KeyPath<LatencySummary, Double>) -> Double? { supports(percentile: q) ? self[keyPath: path] : nil }

    /// P99 where the samples support it, nil where they do not (shown as "—").
    public var supportedP99: Double? { supports(percentile: 99) ? p99 : nil }

    /// Relative half-width of the median's interval (0.01 = ±1%).
    public var relativeMedianHalfWidth: Double {
        guard p50 > 0 else { return .infinity }
        return (ci95.p50.upper - ci95.p50.lower) / 2 / p50
    }
}

/// Latency samples in nanoseconds: the raw values (for intervals and CSV) and an
/// HdrHistogram (3 significant digits, for percentiles, merging and the spectrum).
public struct LatencySamples: Sendable {
    public private(set) var values: [Int64] = []
    public private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)

    public init() {}

    public init(_ values: [Int64]) {
        append(contentsOf: values)
    }

    public var count: Int { values.count }

    public mutating func append(contentsOf newValues: [Int64]) {
        for value in newValues {
            values.append(value)
            _ = histogram.record(UInt64(Swift.max(1, value)))
        }
    }

    /// Percentile from the histogram (0...100), in nanoseconds, the midpoint of its bucket.
    public func percentileNS(_ p: Double) -> Double {
        Double(histogram.medianEquivalentForValue(histogram.valueAtPercentile(p)))
    }

    /// The summary in milliseconds, or nil when there are no samples.
    public func summary() -> LatencySummary? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted().map(Double.init)
        let n = Double(sorted.count)
        let mean = sorted.reduce(0, +) / n
        let variance = sorted.count > 1 ? sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        let stddev = variance.squareRoot()
        let meanHalf = 1.96 * stddev / n.squareRoot()
        let medianCI = Statistics.quantileInterval(sorted: sorted, quantile: 0.5)
        let ms = 1e-6
        return LatencySummary(
            n: sorted.count, mean: mean * ms, stddev: stddev * ms, min: sorted.first! * ms,
            p50: percentileNS(50) * ms, p90: percentileNS(90) * ms, p95: percentileNS(95) * ms,
            p99: percentileNS(99) * ms, p999: percentileNS(99.9) * ms, max: sorted.last! * ms,
            ci95: .init(p50: [medianCI.lower * ms, medianCI.upper * ms], mean: [(mean - meanHalf) * ms, (mean + meanHalf) * ms]))
    }
}
