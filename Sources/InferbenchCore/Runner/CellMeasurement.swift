import Foundation

/// The measuring state of one cell: samples so far and the stopping decision.
///
/// Split from the runner so that compared cells can be measured in interleaved rounds
/// (A, B, A, B …): each variant's stopping rule sees only its own samples and its own
/// measuring time, while drift on the machine lands on every variant alike.
struct CellMeasurement {
    var samples = LatencySamples()
    var hostSamples = LatencySamples()
    var overheads: [Double] = []
    var clock: ClockKind = .perfCounter
    var decision = StoppingRule.MeasureDecision.more
    /// Seconds spent measuring this cell (its own chunks only).
    var measuredSeconds = 0.0
    var perIteration: Double
    /// Sample count at the end of each repeat, for per-repeat medians.
    var repeatBoundaries: [Int] = []
    var warmupIterations = 0
    var warmupDecision = StoppingRule.WarmupDecision.more
    /// Monotonic start and end of the measured phase (for telemetry windows).
    var phaseStart: Double?
    var phaseEnd: Double?
    /// Monotonic start and end of every measured chunk: with interleaving, a cell's own time.
    var chunkWindows: [(Double, Double)] = []
    /// Iterations in each measured chunk, in order (they split `samples` by chunk).
    var chunkSizes: [Int] = []
    /// The first call of each interleaved chunk, timed but not counted (ns).
    var switchCalls: [Int64] = []

    init(perIteration: Double) {
        self.perIteration = perIteration
    }

    var relativeHalfWidth: Double {
        samples.count >= 2 ? (samples.summary()?.relativeMedianHalfWidth ?? .infinity) : .infinity
    }

    /// Records one latency chunk and re-evaluates the stopping rule. With `afterSwitch` the
    /// chunk's first call (the first after another variant's process ran) is set aside.
    mutating func add(_ chunk: LatencyChunk, seconds: Double, rule: StoppingRule, repeatStart: Int, afterSwitch: Bool = false) {
        var chunk = chunk
        if afterSwitch, chunk.hostNS.count > 1 {
            switchCalls.append((chunk.deviceNS ?? chunk.hostNS)[0])
            chunk.hostNS.removeFirst()
            chunk.deviceNS?.removeFirst()
        }
        clock = chunk.clock
        chunkSizes.append((chunk.deviceNS ?? chunk.hostNS).count)
        samples.append(contentsOf: chunk.deviceNS ?? chunk.hostNS)
        if let device = chunk.deviceNS {
            hostSamples.append(contentsOf: chunk.hostNS)
            overheads.append(contentsOf: zip(chunk.hostNS, device).map { Double($0 - $1) })
        }
        perIteration = Statistics.median(chunk.hostNS.map(Double.init)) / 1e9
        measuredSeconds += seconds
        decision = rule.measureDecision(iterations: samples.count - repeatStart, elapsed: measuredSeconds, relativeHalfWidth: relativeHalfWidth)
    }

    /// Seconds left in this phase, estimated from how fast the interval is narrowing.
    func remaining(rule: StoppingRule) -> Double? {
        if let fixed = rule.iterations { return Double(max(0, fixed - samples.count)) * perIteration }
        let width = relativeHalfWidth
        guard width.isFinite else { return nil }
        let projected = min(rule.maxTime, max(rule.minTime, measuredSeconds * pow(width / rule.targetCI, 2)))
        return max(0, projected - measuredSeconds)
    }

    /// Medians of each repeat, in milliseconds (empty with a single repeat).
    var repeatMedians: [Double] {
        guard repeatBoundaries.count > 1 else { return [] }
        var start = 0
        return repeatBoundaries.map { end in
            defer { start = end }
            return Statistics.median(samples.values[start..<end].map(Double.init)) / 1e6
        }
    }
}
