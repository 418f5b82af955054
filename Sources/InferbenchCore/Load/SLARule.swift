import Foundation

/// The conservative pass/fail of one SLA step: MLPerf LoadGen's early-stopping idea.
///
/// A step sent n requests, of which k exceeded the SLA bound (latency from due time to
/// completion over the bound; a failed or rejected request counts as over). The P99 is within
/// the bound when the true fraction of requests over it is at most 1%. The step passes only
/// when that holds at 99% confidence: when the one-sided upper 99% confidence bound of the
/// fraction over (Clopper–Pearson) is at most 1%. That bound is at most 1% exactly when
/// `P(X ≤ k | n, p = 0.01) ≤ 0.01` (the binomial tail is decreasing in p), so the rule is:
/// seeing so few requests over the bound would be a 1-in-100 chance if the P99 were in fact
/// beyond it.
///
/// The largest k that passes is ``allowedOver(_:)``: 2 of 1000, 9 of 2000, 77 of 10,000,
/// about 0.9% of 70,000. With k = 0 the test needs `0.99ⁿ ≤ 0.01`, n ≥ 459
/// (``minimumRequests``): a step of fewer requests cannot pass whatever its latencies.
public struct SLARule: Sendable, Equatable {
    /// The fraction of requests that may exceed the bound: 1 − the percentile (0.01 for P99).
    public var fractionOver: Double
    /// How sure the pass must be (0.99).
    public var confidence: Double

    public init(fractionOver: Double = 0.01, confidence: Double = 0.99) {
        self.fractionOver = fractionOver
        self.confidence = confidence
    }

    /// The P99 rule at 99% confidence.
    public static let p99 = SLARule()

    /// The largest number of the `n` requests that may exceed the bound with the step still
    /// passing; nil when even none over would not pass (n below ``minimumRequests``).
    public func allowedOver(_ n: Int) -> Int? {
        guard n > 0 else { return nil }
        let alpha = 1 - confidence
        var allowed: Int? = nil
        var cdf = 0.0
        for term in Self.binomialTerms(n: n, p: fractionOver) {
            cdf += term.probability
            if cdf > alpha { break }
            allowed = term.k
        }
        return allowed
    }

    /// Whether `over` of `n` requests beyond the bound still pass.
    public func passes(over: Int, of n: Int) -> Bool { allowedOver(n).map { over <= $0 } ?? false }

    /// The fewest requests with which a step can pass (459 for P99 at 99%).
    public var minimumRequests: Int {
        // 0.99ⁿ ≤ 0.01 ⇔ n ≥ ln 0.01 / ln 0.99; rounding can put the exact answer one off.
        var n = max(1, Int((log(1 - confidence) / log1p(-fractionOver)).rounded(.up)) - 1)
        while allowedOver(n) == nil { n += 1 }
        return n
    }

    /// The conservative P99: the latency at the rank the rule allows, the (allowed + 1)-th
    /// slowest of the step's requests (failed and rejected ones count as infinitely slow).
    /// Within the SLA exactly when the step's latencies pass the rule. Nil when the step had
    /// too few requests, or when that rank falls on a failed or rejected request.
    /// `latenciesMS` is one entry per request, `.infinity` for those that failed.
    ///
    /// `planned`: a step stopped early is judged by the allowance of the requests it would
    /// have sent; its bound is then that rank among those it did send (at least what the whole
    /// step's would have been).
    public func bound(_ latenciesMS: [Double], planned: Int? = nil) -> Double? {
        guard let allowed = allowedOver(max(planned ?? 0, latenciesMS.count)), allowed < latenciesMS.count else { return nil }
        let sorted = latenciesMS.sorted()
        let value = sorted[sorted.count - 1 - allowed]
        return value.isFinite ? value : nil
    }

    /// P(X ≤ k) for X ~ Binomial(n, p).
    public static func binomialCDF(_ k: Int, n: Int, p: Double) -> Double {
        guard k >= 0 else { return 0 }
        guard k < n else { return 1 }
        var sum = 0.0
        for term in binomialTerms(n: n, p: p) {
            if term.k > k { break }
            sum += term.probability
        }
        return min(1, sum)
    }

    /// P(X = k) for k = 0, 1, … n, in order, computed on logarithms (0.99ⁿ underflows for large n).
    static func binomialTerms(n: Int, p: Double) -> BinomialTerms { BinomialTerms(n: n, p: p) }

    struct BinomialTerms: Sequence, IteratorProtocol {
        let n: Int
        let logP: Double
        let logQ: Double
        var k = 0
        var logChoose = 0.0

        init(n: Int, p: Double) {
            self.n = n
            logP = log(p)
            logQ = log1p(-p)
        }

        mutating func next() -> (k: Int, probability: Double)? {
            guard k <= n else { return nil }
            if k > 0 { logChoose += log(Double(n - k + 1)) - log(Double(k)) }
            defer { k += 1 }
            return (k, exp(logChoose + Double(k) * logP + Double(n - k) * logQ))
        }
    }
}
