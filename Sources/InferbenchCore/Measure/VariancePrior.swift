import Foundation

/// What a run's cells say about the spread between worker processes: a prior for each cell's
/// between-process variance, estimated from all of them (empirical Bayes, as limma does for
/// genes measured in few replicates: Smyth 2004, "Linear models and empirical Bayes methods").
///
/// Why: a cell measured in two processes has one degree of freedom for that variance, so its
/// own t-interval is t(1) = 12.7 standard errors wide — on the H200 grid ±100% to ±5,000%,
/// which tells a reader nothing. The cells of one run share the host, the driver and the way
/// processes are started, so their between-process variances are alike; each cell's estimate
/// is shrunk toward the run's typical one, by the weight of the evidence on each side, and
/// gains the prior's degrees of freedom.
public struct VariancePrior: Codable, Sendable, Equatable {
    /// The typical variance (s₀², on the log scale of latency).
    public var variance: Double
    /// How much the cells' variances agree, as degrees of freedom (d₀); capped at ``mostDF``.
    public var df: Double
    /// The cells (or comparisons) it was estimated from.
    public var estimatedFrom: Int

    /// Beyond this, the cells' variances agree so well that more degrees of freedom change no
    /// t quantile that matters (t(1000) = 1.962).
    public static let mostDF = 1000.0

    enum CodingKeys: String, CodingKey {
        case variance
        case df
        case estimatedFrom = "estimated_from"
    }

    public init(variance: Double, df: Double, estimatedFrom: Int) {
        self.variance = variance
        self.df = df
        self.estimatedFrom = estimatedFrom
    }

    /// The fewest estimates a prior is fitted from: fewer cannot say how alike they are.
    public static let fewestEstimates = 3
    /// The fewest a run's prior (with its trend) is fitted from.
    public static let fewestForTrend = 5

    /// The scaled-inverse-χ² prior that fits `estimates` (each a sample variance with its
    /// degrees of freedom), by moments of the log variances (limma's `fitFDist`); nil when
    /// fewer than ``fewestEstimates`` are positive and finite.
    public static func fit(_ estimates: [(variance: Double, df: Double)]) -> VariancePrior? {
        let usable = estimates.filter { $0.variance > 0 && $0.variance.isFinite && $0.df > 0 }
        guard usable.count >= fewestEstimates else { return nil }
        let e = usable.map { logTerm($0.variance, df: $0.df) }
        let n = Double(e.count)
        let mean = e.reduce(0, +) / n
        let sampling = samplingSpread(usable.map(\.df))
        let excess = max(0, e.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) - sampling)
        let d0 = priorDF(excess + sampling / n)
        return VariancePrior(variance: exp(mean + offset(d0)), df: d0, estimatedFrom: usable.count)
    }

    /// log s² less the mean of its log-χ² part: log s² is log σ² plus a log-χ² term whose mean
    /// and variance are known for each df.
    static func logTerm(_ variance: Double, df: Double) -> Double { log(variance) - Special.digamma(df / 2) + log(df / 2) }

    /// d₀ from the variance of log σ² the prior must allow for: the spread of the log terms
    /// around their mean (or line) beyond what their log-χ² parts explain, plus how uncertain
    /// the prior's own typical variance is; ``mostDF`` when nothing is left.
    ///
    /// The prior's own uncertainty counts because its typical variance is estimated from the
    /// cells, so it is known only as well as their mean log term (or the trend's fitted value)
    /// is. A run of 15 cells measured in 2 processes each (1 df apiece) gives a prior of about
    /// 7 df, not ``mostDF``: on the H200 bert-base grid a trend line through such cells, trusted
    /// as exact, gave eager/fp32/bs4 (processes 5.04 and 9.03 ms) an interval of 0.72–94.2 ms.
    static func priorDF(_ logVariance: Double) -> Double {
        logVariance > 0 ? min(mostDF, 2 * Special.inverseTrigamma(logVariance)) : mostDF
    }

    /// The mean variance of a log s² about log σ² (the log-χ² part), over the estimates' dfs.
    static func samplingSpread(_ dfs: [Double]) -> Double {
        dfs.reduce(0) { $0 + Special.trigamma($1 / 2) } / Double(dfs.count)
    }

    /// The log-χ² mean of d₀ degrees of freedom, which turns a mean log term back into s₀².
    static func offset(_ d0: Double) -> Double { Special.digamma(d0 / 2) - log(d0 / 2) }

    /// One prior per estimate, its typical variance following a trend in `covariate` (limma's
    /// `trend = TRUE`): log s² is regressed on the covariate, and what the line leaves is the
    /// spread d₀ describes. Where some are slow to start and some are not, the cells whose chunks
    /// are quiet (GPU-bound ones) have quiet processes too, and a single typical variance would
    /// widen their intervals with the launch-bound cells' spread. Covariates that do not vary:
    /// the constant prior of ``fit(_:)`` for each. Fewer than ``fewestForTrend`` estimates: no
    /// prior (nil for each), since a line through fewer says little about the run.
    public static func fitTrend(_ estimates: [(variance: Double, df: Double, covariate: Double)]) -> [VariancePrior?] {
        let usable = estimates.indices.filter {
            let e = estimates[$0]
            return e.variance > 0 && e.variance.isFinite && e.df > 0 && e.covariate.isFinite
        }
        guard usable.count >= fewestForTrend else { return estimates.map { _ in nil } }
        let xs = usable.map { estimates[$0].covariate }
        guard let lo = xs.min(), let hi = xs.max(), hi > lo else {
            let prior = fit(estimates.map { ($0.variance, $0.df) })
            return estimates.map { _ in prior }
        }
        let e = usable.map { logTerm(estimates[$0].variance, df: estimates[$0].df) }
        let n = Double(e.count)
        let mx = xs.reduce(0, +) / n, me = e.reduce(0, +) / n
        let sxx = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let slope = zip(xs, e).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - me) } / sxx
        let residuals = zip(xs, e).map { $1 - me - slope * ($0 - mx) }
        let sampling = samplingSpread(usable.map { estimates[$0].df })
        let excess = max(0, residuals.reduce(0) { $0 + $1 * $1 } / (n - 2) - sampling)
        // The line is held within the log terms it was fitted to: a trend never predicts a
        // variance beyond those the run showed.
        let (lowest, highest) = (e.min()!, e.max()!)
        return estimates.map { est in
            guard est.covariate.isFinite else { return nil }
            let x = min(max(est.covariate, lo), hi)
            let leverage = 1 / n + (x - mx) * (x - mx) / sxx
            let d0 = priorDF(excess + sampling * leverage)
            let fitted = min(max(me + slope * (x - mx), lowest), highest)
            return VariancePrior(variance: exp(fitted + offset(d0)), df: d0, estimatedFrom: usable.count)
        }
    }

    /// A cell's variance `own` (with `df`) shrunk toward the prior: the weighted mean of the
    /// two, weighted by their degrees of freedom; it rests on `df + self.df` of them.
    public func moderate(_ own: Double, df: Double) -> (variance: Double, df: Double) {
        ((self.df * variance + df * own) / (self.df + df), self.df + df)
    }
}

/// The special functions the prior's fit needs.
enum Special {
    /// ψ(x) for x > 0: the recurrence up to 6, then the asymptotic series.
    static func digamma(_ x: Double) -> Double {
        var x = x
        var shift = 0.0
        while x < 6 {
            shift -= 1 / x
            x += 1
        }
        let f = 1 / (x * x)
        return shift + log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))))
    }

    /// ψ′(x) for x > 0: the recurrence up to 6, then the asymptotic series.
    static func trigamma(_ x: Double) -> Double {
        var x = x
        var shift = 0.0
        while x < 6 {
            shift += 1 / (x * x)
            x += 1
        }
        let f = 1 / (x * x)
        return shift + 1 / x + f / 2 + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f / 30)))
    }

    /// The x > 0 with ψ′(x) = y, by Newton's method on 1/ψ′ (limma's `trigammaInverse`).
    static func inverseTrigamma(_ y: Double) -> Double {
        if y > 1e7 { return 1 / y.squareRoot() }
        if y < 1e-6 { return 1 / y }
        var x = 0.5 + 1 / y
        for _ in 0..<50 {
            let t = trigamma(x)
            let step = t * (1 - t / y) / polygamma2(x)
            x += step
            if -step / x < 1e-8 { break }
        }
        return x
    }

    /// ψ″(x), the derivative of ``trigamma(_:)``, for Newton's step.
    static func polygamma2(_ x: Double) -> Double {
        var x = x
        var shift = 0.0
        while x < 6 {
            shift -= 2 / (x * x * x)
            x += 1
        }
        let f = 1 / (x * x)
        return shift - f - f / x - f * f * (0.5 - f * (1.0 / 6 - f * (1.0 / 6 - f * 0.3)))
    }
}
