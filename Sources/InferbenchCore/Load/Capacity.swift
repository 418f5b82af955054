import Foundation

extension LoadTestResult {
    /// A `--find-max-qps` step's figures under the SLA rule (``SLARule``): the `sla` object of
    /// a step in results.json.
    public struct SLAFigures: Codable, Sendable, Equatable {
        /// Requests the step sent (n), and how many exceeded the SLA (k): failed, rejected, or
        /// longer than the SLA from due time to completion.
        public var requests: Int
        public var over: Int
        /// A step stopped early: the requests it would have sent, which `allowed_over` and
        /// `p99_bound_ms` are of.
        public var planned: Int?
        /// The most of `requests` (of `planned`, in a step stopped early) that may exceed the
        /// SLA for the step to pass at 99% confidence; absent when the step had too few
        /// requests to pass at all (under 459).
        public var allowedOver: Int?
        /// The conservative P99: the latency at the rank the rule allows (the allowed_over + 1
        /// slowest request); within the SLA exactly when the latencies pass. Absent when the
        /// step had too few requests, or when that rank is a failed or rejected request.
        public var p99BoundMS: Double?
        /// Requests per second of the step that completed within the SLA.
        public var goodputPerS: Double
        /// A pass whose conservative P99 came within 10% of the SLA: the rate is run again.
        public var close: Bool?
        /// This step runs the rate of step `repeat_of` (an index into `load_tests`) again.
        public var repeatOf: Int?

        public init(
            requests: Int, over: Int, planned: Int? = nil, allowedOver: Int?, p99BoundMS: Double?, goodputPerS: Double, close: Bool? = nil,
            repeatOf: Int? = nil
        ) {
            self.requests = requests
            self.over = over
            self.planned = planned
            self.allowedOver = allowedOver
            self.p99BoundMS = p99BoundMS
            self.goodputPerS = goodputPerS
            self.close = close
            self.repeatOf = repeatOf
        }

        enum CodingKeys: String, CodingKey {
            case requests, over, planned, close
            case allowedOver = "allowed_over"
            case p99BoundMS = "p99_bound_ms"
            case goodputPerS = "goodput_per_s"
            case repeatOf = "repeat_of"
        }
    }
}

/// The answer of `--find-max-qps` as an interval: the highest rate every run of which passed,
/// and the lowest rate above it that failed. The `capacity` object of `load` in results.json.
public struct Capacity: Codable, Sendable, Equatable {
    /// The highest rate whose every run passed; absent when no rate passed.
    public var lowerQPS: Double?
    /// The lowest rate above `lower_qps` that failed; absent when none failed within the
    /// search's range (the capacity is at least `lower_qps`).
    public var upperQPS: Double?
    /// The fraction of requests that may exceed the SLA (0.01: P99) and the confidence of each
    /// step's pass (0.99).
    public var fractionOver: Double
    public var confidence: Double
    /// With several fresh starts of the workers (`--processes`), each start's own bracket, in
    /// order; the capacity is their union (see ``union(_:)``). Absent with one start.
    public var replicates: [Capacity]?

    public init(lowerQPS: Double?, upperQPS: Double?, rule: SLARule = .p99) {
        self.lowerQPS = lowerQPS
        self.upperQPS = upperQPS
        fractionOver = rule.fractionOver
        confidence = rule.confidence
    }

    /// The capacity the judged steps of a search bracket: a rate passes when every run of it
    /// passed. What the search itself returns, and, for a test killed half-way, its answer so
    /// far. Steps without a verdict or a target are left out.
    /// With steps of several starts (`replicate`), each start's bracket and their union.
    public init(steps: [LoadTestResult], rule: SLARule = .p99) {
        let starts = Set(steps.compactMap(\.replicate)).sorted()
        guard starts.count > 1 else {
            self.init(bracketing: steps, rule: rule)
            return
        }
        self = Self.union(starts.map { r in Capacity(bracketing: steps.filter { $0.replicate == r }, rule: rule) }, rule: rule)
    }

    /// The capacity of a fresh start of the workers, from the brackets of several: the lowest
    /// of their lower rates (a rate every start passed) to the highest of their upper rates (a
    /// rate every start failed), so the answer holds for whichever state a new start lands
    /// in. A start that passed nothing leaves no lower rate; one that failed nothing, no upper.
    public static func union(_ brackets: [Capacity], rule: SLARule = .p99) -> Capacity {
        let lowers = brackets.map(\.lowerQPS), uppers = brackets.map(\.upperQPS)
        let lower = lowers.contains(nil) ? nil : lowers.compactMap { $0 }.min()
        let upper = uppers.contains(nil) ? nil : uppers.compactMap { $0 }.max()
        var out = Capacity(lowerQPS: lower, upperQPS: upper, rule: rule)
        out.replicates = brackets
        return out
    }

    /// Whether some two brackets share no rate (one start's capacity lies wholly above
    /// another's): the starts disagree beyond the search's resolution.
    public static func disjoint(_ brackets: [Capacity]) -> Bool {
        let tops = brackets.compactMap(\.upperQPS), bottoms = brackets.compactMap(\.lowerQPS)
        guard let lowestTop = tops.min(), let highestBottom = bottoms.max() else { return false }
        return lowestTop <= highestBottom
    }

    /// One start's bracket.
    init(bracketing steps: [LoadTestResult], rule: SLARule) {
        var verdicts: [Double: Bool] = [:]
        for s in steps {
            guard let met = s.slaMet, let rate = s.targetQPS, s.partial != true else { continue }
            verdicts[rate] = (verdicts[rate] ?? true) && met
        }
        let lower = verdicts.filter(\.value).keys.max()
        let upper = verdicts.filter { !$0.value && $0.key > (lower ?? 0) }.keys.min()
        self.init(lowerQPS: lower, upperQPS: upper, rule: rule)
    }

    public enum Kind: Sendable, Equatable {
        /// Between a pass and a fail: [lower, upper].
        case interval
        /// Nothing failed within the search's range: at least `lower`.
        case atLeast
        /// Even the lowest rate tried failed: below `upper`.
        case below
        /// No step finished.
        case unknown
    }

    public var kind: Kind {
        switch (lowerQPS, upperQPS) {
        case (_?, _?): return .interval
        case (_?, nil): return .atLeast
        case (nil, _?): return .below
        case (nil, nil): return .unknown
        }
    }

    enum CodingKeys: String, CodingKey {
        case confidence, replicates
        case lowerQPS = "lower_qps"
        case upperQPS = "upper_qps"
        case fractionOver = "fraction_over"
    }
}

/// Offline throughput measured in rounds, with a 95% interval: the `offline` object of `load`.
///
/// Rates are positive and vary by ratios, so the interval is a t-interval on the logarithm of
/// each round's rate, brought back with `exp`: it is never negative and is asymmetric as the
/// rates are. The estimate is the geometric mean of the rounds.
public struct OfflineThroughput: Codable, Sendable, Equatable {
    /// Each round's samples per second, all replicas together.
    public var roundsPerS: [Double]
    /// How long each round ran back to back, seconds (at least one batch).
    public var roundS: Double
    public var perS: Double
    /// Absent with fewer than two rounds.
    public var ci95: Interval?
    /// With several fresh starts of the workers (`--processes`), each start's rounds;
    /// `rounds_per_s` holds them all, in order. Absent with one start.
    public var replicateRoundsPerS: [[Double]]?

    /// Nil when no round measured anything.
    public init?(rounds: [Double], roundSeconds: Double) {
        let rounds = rounds.filter { $0 > 0 && $0.isFinite }
        guard !rounds.isEmpty else { return nil }
        roundsPerS = rounds
        roundS = roundSeconds
        let interval = Self.logInterval(rounds)
        perS = interval.estimate
        ci95 = interval.ci95
    }

    /// The rounds of several starts. When the starts differ beyond their rounds' own noise
    /// (Cochran's Q, as for processes in `run`), the interval spans the starts: from the lowest
    /// start's lower bound to the highest one's upper, as the capacity spans the starts'
    /// brackets. (A t-interval over two starts' means is t(1) = 12.7 times their spread: on an
    /// H200, 9,616 and 11,886 samples/s read 2,780–41,109, which says nothing.) When the
    /// starts agree, the interval is over all rounds.
    public init?(replicates: [[Double]], roundSeconds: Double) {
        let starts = replicates.map { $0.filter { $0 > 0 && $0.isFinite } }.filter { !$0.isEmpty }
        guard starts.count > 1 else {
            self.init(rounds: replicates.first ?? [], roundSeconds: roundSeconds)
            return
        }
        self.init(rounds: starts.flatMap { $0 }, roundSeconds: roundSeconds)
        replicateRoundsPerS = starts
        let logs = starts.map { $0.map { log($0) } }
        if ClusterBootstrap.heterogeneous(logs) {
            let each = starts.map { Self.logInterval($0) }.map { $0.ci95 ?? Interval(0, 0) }
            let lower = zip(each, starts).map { $0.lower > 0 ? $0.lower : $1.min()! }.min()!
            let upper = zip(each, starts).map { $0.upper > 0 ? $0.upper : $1.max()! }.max()!
            ci95 = Interval(lower, upper)
        }
    }

    /// The geometric mean of `rates` and its 95% t-interval on log rates (nil for one rate).
    public static func logInterval(_ rates: [Double]) -> (estimate: Double, ci95: Interval?) {
        let logs = rates.map { log($0) }
        let m = Statistics.meanInterval(logs)
        return (exp(m.mean), rates.count > 1 ? Interval(exp(m.lower), exp(m.upper)) : nil)
    }

    /// The interval, or the estimate alone when there is none.
    public var range: Interval { ci95 ?? Interval(perS, perS) }

    enum CodingKeys: String, CodingKey {
        case ci95
        case roundsPerS = "rounds_per_s"
        case roundS = "round_s"
        case perS = "per_s"
        case replicateRoundsPerS = "replicate_rounds_per_s"
    }
}

/// Batching efficiency: capacity under the SLA ÷ offline throughput, with both intervals
/// carried through (lower = capacity's lower ÷ offline's upper; upper = capacity's upper ÷
/// offline's lower). The `batching_efficiency` object of `load`.
public struct BatchingEfficiency: Codable, Sendable, Equatable {
    /// Capacity's lower end ÷ offline's estimate; absent when no rate passed.
    public var estimate: Double?
    /// 0 when no rate passed.
    public var lower: Double
    /// Absent when the capacity has no upper end (nothing failed within the search).
    public var upper: Double?

    public init?(capacity: Capacity, offline: OfflineThroughput) {
        guard capacity.kind != .unknown, offline.perS > 0 else { return nil }
        estimate = capacity.lowerQPS.map { $0 / offline.perS }
        lower = (capacity.lowerQPS ?? 0) / offline.range.upper
        upper = capacity.upperQPS.map { $0 / offline.range.lower }
    }
}
