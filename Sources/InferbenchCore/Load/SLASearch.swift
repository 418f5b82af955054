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
    public func failedEarly(_ outcomes: [RequestOutcome], planned: Int) -> Bool {
        let over = outcomes.filter { $0.status != .ok || ($0.completed - $0.scheduled) * 1000 > slaP99MS }.count
        return Double(over) > 0.01 * Double(planned)
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
