import Foundation

/// When to stop warming up and when to stop measuring.
///
/// Warm-up ends when two consecutive chunk medians agree within `warmupTolerance`
/// (after at least `minWarmupIterations`), or at `maxWarmup`. Measuring ends when the
/// median's 95% interval is within ±`targetCI`, at least `minIterations` ran for at
/// least `minTime`; or at `maxTime`, when the target is reported as not met. A fixed
/// `iterations` count overrides the adaptive rule.
public struct StoppingRule: Sendable, Equatable, Codable {
    public var minTime: Double = 1.0
    public var maxTime: Double = 10.0
    public var targetCI: Double = 0.01
    public var minIterations: Int = 30
    public var iterations: Int? = nil
    public var warmupIterations: Int? = nil
    public var minWarmupIterations: Int = 5
    public var maxWarmup: Double = 10.0
    public var warmupTolerance: Double = 0.02
    /// The duration one chunk (one IPC round trip) aims for.
    public var chunkSeconds: Double = 0.1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case minTime = "min_time_s", maxTime = "max_time_s", targetCI = "target_ci", minIterations = "min_iterations"
        case iterations, warmupIterations = "warmup_iterations", minWarmupIterations = "min_warmup_iterations"
        case maxWarmup = "max_warmup_s", warmupTolerance = "warmup_tolerance", chunkSeconds = "chunk_s"
    }

    /// Iterations for the next chunk, given the latest per-iteration estimate in seconds.
    public func chunkSize(perIteration seconds: Double, remaining: Int? = nil) -> Int {
        let guess = seconds > 0 ? Int(chunkSeconds / seconds) : 100
        let size = Swift.min(Swift.max(guess, 1), 5000)
        if let remaining { return Swift.max(1, Swift.min(size, remaining)) }
        return size
    }

    public enum WarmupDecision: Equatable, Sendable { case more, stable, cappedUnstable }

    /// Whether warm-up may end, from the medians of its chunks so far.
    public func warmupDecision(chunkMedians: [Double], iterations: Int, elapsed: Double) -> WarmupDecision {
        if let fixed = warmupIterations { return iterations >= fixed ? .stable : .more }
        if chunkMedians.count >= 2, iterations >= minWarmupIterations {
            let a = chunkMedians[chunkMedians.count - 2], b = chunkMedians[chunkMedians.count - 1]
            if abs(a - b) / Swift.max(Swift.min(a, b), 1e-12) <= warmupTolerance { return .stable }
        }
        return elapsed >= maxWarmup ? .cappedUnstable : .more
    }

    public enum MeasureDecision: Equatable, Sendable { case more, targetMet, fixedCountDone, maxTimeReached }

    public func measureDecision(iterations: Int, elapsed: Double, relativeHalfWidth: Double) -> MeasureDecision {
        if let fixed = self.iterations {
            return iterations >= fixed ? .fixedCountDone : .more
        }
        if iterations >= minIterations, elapsed >= minTime, relativeHalfWidth <= targetCI { return .targetMet }
        return elapsed >= maxTime ? .maxTimeReached : .more
    }
}
