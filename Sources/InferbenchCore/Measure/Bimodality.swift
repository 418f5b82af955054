import Foundation

/// Finds latency that falls into two clusters (e.g. recompiles, a cache that sometimes
/// misses, two code paths), which a single median would hide.
public enum Bimodality {
    public struct Split: Sendable, Equatable {
        public var lowerMedian: Double
        public var upperMedian: Double
        /// Share of samples in the upper cluster.
        public var upperFraction: Double
    }

    /// Two-means on log latency. Bimodal when each cluster holds at least `minFraction` of
    /// the samples and the clusters' centres are more than `separation` pooled standard
    /// deviations apart and the upper centre at least `minRelativeGap` above the lower. Rare
    /// stalls are not bimodality: their cluster is too small. Nor is a very steady spread:
    /// 2.0009 against 2.0035 ms is many standard deviations apart, yet nothing a reader acts on.
    public static func split(_ values: [Double], minFraction: Double = 0.05, separation: Double = 4, minRelativeGap: Double = 0.10) -> Split? {
        let logs = values.filter { $0 > 0 }.map { log($0) }.sorted()
        let n = logs.count
        guard n >= 40 else { return nil }
        var threshold = (logs.first! + logs.last!) / 2
        var cut = 0
        for _ in 0..<50 {
            cut = logs.firstIndex { $0 > threshold } ?? n
            guard cut > 0, cut < n else { return nil }
            let lowMean = logs[..<cut].reduce(0, +) / Double(cut)
            let highMean = logs[cut...].reduce(0, +) / Double(n - cut)
            let next = (lowMean + highMean) / 2
            if abs(next - threshold) < 1e-9 { break }
            threshold = next
        }
        let low = Array(logs[..<cut]), high = Array(logs[cut...])
        let fraction = Double(high.count) / Double(n)
        guard fraction >= minFraction, fraction <= 1 - minFraction else { return nil }
        func variance(_ xs: [Double]) -> Double {
            let m = xs.reduce(0, +) / Double(xs.count)
            return xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(xs.count - 1, 1))
        }
        let pooled = ((variance(low) * Double(low.count - 1) + variance(high) * Double(high.count - 1)) / Double(n - 2)).squareRoot()
        let gap = high.reduce(0, +) / Double(high.count) - low.reduce(0, +) / Double(low.count)
        guard pooled > 0, gap / pooled > separation, gap >= log1p(minRelativeGap) else { return nil }
        return Split(lowerMedian: exp(Statistics.median(low)), upperMedian: exp(Statistics.median(high)), upperFraction: fraction)
    }
}
