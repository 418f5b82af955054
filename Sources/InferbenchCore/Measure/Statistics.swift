import Foundation

/// Distribution-free statistics used by the summaries, the stopping rule and comparisons.
public enum Statistics {
    /// Order-statistic 95% interval for a quantile of i.i.d. samples (`sorted` ascending).
    ///
    /// The ranks are `n·q ∓ 1.96·√(n·q·(1−q))` (normal approximation to the binomial),
    /// so the interval needs no assumption about the latency distribution's shape.
    public static func quantileInterval(sorted: [Double], quantile q: Double) -> (lower: Double, upper: Double) {
        let n = sorted.count
        guard n > 1 else { return (sorted.first ?? 0, sorted.first ?? 0) }
        let center = Double(n) * q
        let half = 1.96 * (Double(n) * q * (1 - q)).squareRoot()
        let lo = Swift.max(0, Int((center - half).rounded(.down)) - 1)
        let hi = Swift.min(n - 1, Int((center + half).rounded(.up)))
        return (sorted[lo], sorted[hi])
    }

    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Median absolute deviation (unscaled).
    public static func mad(_ values: [Double]) -> Double {
        let m = median(values)
        return median(values.map { abs($0 - m) })
    }

    /// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom (for 95% intervals).
    public static func t975(df: Int) -> Double {
        let table: [Double] = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
            2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        ]
        if df < 1 { return .infinity }
        if df <= table.count { return table[df - 1] }
        if df <= 30 { return 2.042 + (2.086 - 2.042) * Double(30 - df) / 10 }
        return 1.96 + 2.4 / Double(df)
    }

    /// Mean and 95% t-interval of a few repeated measurements (e.g. throughput chunks).
    public static func meanInterval(_ values: [Double]) -> (mean: Double, lower: Double, upper: Double) {
        let n = Double(values.count)
        guard values.count > 1 else { let v = values.first ?? .nan; return (v, v, v) }
        let mean = values.reduce(0, +) / n
        let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let half = t975(df: values.count - 1) * sd / n.squareRoot()
        return (mean, mean - half, mean + half)
    }

    /// Ratio `a / b` of two estimates with 95% intervals, and the ratio's interval by the
    /// delta method on logarithms: se(log r)² = se(log a)² + se(log b)², with each se taken
    /// from its interval's half-width / 1.96. Valid when each interval is narrow relative to
    /// its estimate, which the stopping rule ensures.
    public static func ratio(
        _ a: Double, _ aInterval: (Double, Double), over b: Double, _ bInterval: (Double, Double)
    ) -> (ratio: Double, lower: Double, upper: Double) {
        let r = a / b
        func seLog(_ x: Double, _ i: (Double, Double)) -> Double {
            guard x > 0, i.0 > 0 else { return .infinity }
            return (log(i.1) - log(i.0)) / 2 / 1.96
        }
        let se = (pow(seLog(a, aInterval), 2) + pow(seLog(b, bInterval), 2)).squareRoot()
        return (r, r * exp(-1.96 * se), r * exp(1.96 * se))
    }
}
