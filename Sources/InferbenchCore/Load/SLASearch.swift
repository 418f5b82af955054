import Foundation

/// The search for the highest Poisson rate whose P99 stays under an SLA.
///
/// The rule, stated in the report: each step runs at least `minDuration` seconds and
/// `minQueries` requests (whichever is longer, capped at `maxDuration`); a step passes when
/// its P99 is within the SLA, it dropped nothing, errors are under 1% and it achieved at least
/// 95% of the target rate. A step stops early, as failed, once more than 1% of its planned
/// requests have already exceeded the SLA (its P99 cannot come back under it) — the idea of
/// MLPerf LoadGen's early stopping. The search brackets the rate between the best pass and
/// the lowest fail and halves the bracket until it is within `tolerance` of the pass.
public struct SLASearch: Sendable, Equatable {
    public var slaP99MS: Double
    public var minDuration: Double = 10
    public var maxDuration: Double = 60
    public var minQueries = 1000
    public var tolerance = 0.05
    public var maxSteps = 10

    public init(slaP99MS: Double) { self.slaP99MS = slaP99MS }

    public func duration(for qps: Double) -> Double {
        min(maxDuration, max(minDuration, Double(minQueries) / max(qps, 1e-9)))
    }

    public func passes(_ step: LoadTestResult) -> Bool {
        guard let p99 = step.latencyMS?.p99, let target = step.targetQPS, step.sent > 0 else { return false }
        return p99 <= slaP99MS && step.dropped == 0 && Double(step.errors) < 0.01 * Double(step.sent)
            && step.achievedQPS >= 0.95 * target && step.stoppedEarly != true
    }

    /// Whether a running step has already failed: over 1% of `planned` requests beyond the SLA.
    /// Scans all of `outcomes`; a running step should keep an ``EarlyStop`` instead.
    public func failedEarly(_ outcomes: [RequestOutcome], planned: Int) -> Bool {
        var rule = earlyStop(planned: planned)
        rule.record(outcomes)
        return rule.failed
    }

    /// The early-stopping rule for a step of `planned` requests, with nothing counted yet.
    public func earlyStop(planned: Int) -> EarlyStop { EarlyStop(slaP99MS: slaP99MS, planned: planned) }

    /// The early-stopping rule of one running step, kept as a running count: each outcome is
    /// read once, when it is recorded. A request counts against the step when it failed, was
    /// rejected, or took longer than the SLA from its due time to its completion.
    public struct EarlyStop: Sendable, Equatable {
        public let slaP99MS: Double
        public let planned: Int
        /// Outcomes recorded so far, and how many of them count against the step.
        public private(set) var recorded = 0
        public private(set) var over = 0

        public init(slaP99MS: Double, planned: Int) {
            self.slaP99MS = slaP99MS
            self.planned = planned
        }

        public mutating func record(_ outcomes: some Sequence<RequestOutcome>) {
            for o in outcomes {
                recorded += 1
                if o.status != .ok || (o.completed - o.scheduled) * 1000 > slaP99MS { over += 1 }
            }
        }

        /// Over 1% of the planned requests are already beyond the SLA: the step's P99 cannot
        /// come back under it.
        public var failed: Bool { Double(over) > 0.01 * Double(planned) }
    }

    /// Runs the search; `step(qps)` runs one step. `start` is a first guess of capacity.
    public func run(start: Double, step: (Double) async -> LoadTestResult) async -> (best: Double?, steps: [LoadTestResult]) {
        var steps: [LoadTestResult] = []
        var low: Double? = nil
        var high: Double? = nil
        var rate = max(start, 1)
        for _ in 0..<maxSteps {
            if Task.isCancelled { break }
            var result = await step(rate)
            result.slaMet = passes(result)
            steps.append(result)
            if result.slaMet == true { low = max(low ?? 0, rate) } else { high = min(high ?? .infinity, rate) }
            switch (low, high) {
            case (let l?, let h?):
                if (h - l) / l <= tolerance { return (l, steps) }
                rate = (l + h) / 2
            case (let l?, nil): rate = l * 2
            case (nil, let h?): rate = h / 2
            case (nil, nil): break
            }
            if rate < 0.5 { break }
        }
        return (low, steps)
    }
}
