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
    /// The round of the step each chunk ran in (chunks of cells in the same round ran side by side).
    var chunkRounds: [Int] = []
    /// Back-to-back throughput of each throughput chunk (samples/s).
    var throughputRates: [Double] = []
    /// The worker's process state, summed over the measured chunks.
    var evidence = ProcessEvidence()
    var onCPU = (cpu: 0.0, wall: 0.0)
    /// The worker's cumulative recompile count at the first and latest measured chunk, and the
    /// chunks during which it grew (they paid for a compilation).
    var firstRecompiles: Int?
    var lastRecompiles: Int?
    /// After the reported interval turned out wider than the gauge promised, the chunk count
    /// before it is computed again (it costs a bootstrap; see ``confirmedByReportedInterval``).
    var confirmAtChunks = 0
    var recompiledChunks = 0

    /// Adds a chunk's process state (deltas over the chunk) to the evidence.
    mutating func record(_ proc: ProcessState) {
        func add(_ a: Int?, _ b: Int?) -> Int? { b.map { (a ?? 0) + $0 } ?? a }
        evidence.involuntarySwitches = add(evidence.involuntarySwitches, proc.nivcsw)
        evidence.voluntarySwitches = add(evidence.voluntarySwitches, proc.nvcsw)
        evidence.migrations = add(evidence.migrations, proc.migrations)
        evidence.gcCollections = add(evidence.gcCollections, proc.gcCollections)
        if let cpu = proc.cpu, !(evidence.cpus ?? []).contains(cpu) { evidence.cpus = ((evidence.cpus ?? []) + [cpu]).sorted() }
        if let c = proc.cpuTimeS, let w = proc.wallS, w > 0 { onCPU = (onCPU.cpu + c, onCPU.wall + w) }
    }

    init(perIteration: Double) {
        self.perIteration = perIteration
    }

    /// The medians of the measured chunks, in nanoseconds.
    var chunkMedians: [Double] {
        var start = 0
        return chunkSizes.map { size in
            defer { start += size }
            return Quickselect.median(samples.values[start..<start + size].map(Double.init))
        }
    }

    /// Relative half-width of the median's 95% interval from chunk medians (t-interval): the
    /// stopping rule's gauge. Chunks, not iterations, because consecutive iterations are
    /// correlated (lag-1 autocorrelation 0.6–0.9 on a GPU VM), so iterations overstate the
    /// information; the reported interval is the cluster bootstrap's, which this approximates.
    var relativeHalfWidth: Double {
        Self.chunkHalfWidth(chunkMedians).map { $0.half / $0.center } ?? .infinity
    }

    /// The t-interval half-width of the mean of chunk medians, and their median.
    static func chunkHalfWidth(_ medians: [Double]) -> (center: Double, half: Double)? {
        guard medians.count >= 3 else { return nil }
        let m = Statistics.meanInterval(medians)
        let center = Statistics.median(medians)
        return center > 0 ? (center, (m.upper - m.lower) / 2) : nil
    }

    /// Whether the first call after a switch is still set aside: always for the first three
    /// switches, then only while it is measurably slower than the cell's median (beyond 2% and
    /// the median's interval). For long calls (a diffusion pipeline, ~1 s a call), setting it
    /// aside would halve the samples where it costs nothing.
    var setsAsideSwitchCall: Bool {
        guard switchCalls.count >= 3, samples.count > 0 else { return true }
        let median = Quickselect.median(samples.values.map(Double.init))
        let switchMedian = Quickselect.median(switchCalls.map(Double.init))
        return switchMedian > median * (1.02 + (relativeHalfWidth.isFinite ? relativeHalfWidth : 0))
    }

    /// Records one latency chunk and re-evaluates the stopping rule. With `afterSwitch` the
    /// chunk's first call (the first after another variant's process ran) is set aside.
    mutating func add(_ chunk: LatencyChunk, seconds: Double, rule: StoppingRule, repeatStart: Int, afterSwitch: Bool = false, round: Int = 0) {
        var chunk = chunk
        if afterSwitch, chunk.hostNS.count > 1 {
            switchCalls.append((chunk.deviceNS ?? chunk.hostNS)[0])
            chunk.hostNS.removeFirst()
            chunk.deviceNS?.removeFirst()
        }
        clock = chunk.clock
        chunkRounds.append(round)
        chunkSizes.append((chunk.deviceNS ?? chunk.hostNS).count)
        samples.append(contentsOf: chunk.deviceNS ?? chunk.hostNS)
        if let device = chunk.deviceNS {
            hostSamples.append(contentsOf: chunk.hostNS)
            overheads.append(contentsOf: zip(chunk.hostNS, device).map { Double($0 - $1) })
        }
        perIteration = Statistics.median(chunk.hostNS.map(Double.init)) / 1e9
        if let proc = chunk.proc { record(proc) }
        if let r = chunk.recompiles {
            if let first = firstRecompiles, r > (lastRecompiles ?? first) { recompiledChunks += 1 }
            if firstRecompiles == nil { firstRecompiles = r }
            lastRecompiles = r
        }
        measuredSeconds += seconds
        decision = rule.measureDecision(iterations: samples.count - repeatStart, elapsed: measuredSeconds, relativeHalfWidth: relativeHalfWidth)
        if decision == .targetMet, !confirmedByReportedInterval(rule) { decision = measuredSeconds >= rule.maxTime ? .maxTimeReached : .more }
    }

    /// Whether the interval the results will show meets the target too. The gauge (a t-interval
    /// of chunk medians) only approximates the cluster bootstrap that is reported, and a cell
    /// must not say `target_ci_met` beside a wider interval (a CI run showed ±1.09% for a 1%
    /// target). For one process this is the very computation the merge runs. A failed check is
    /// repeated only after 20% more chunks, so a fast model's many samples are not resampled
    /// after every 0.1 s chunk.
    mutating func confirmedByReportedInterval(_ rule: StoppingRule) -> Bool {
        guard chunkSizes.count >= confirmAtChunks else { return false }
        let values = samples.values.map(Double.init)
        let chunks = ReplicateMerge.split(values, chunkSizes)
        let width = ClusterBootstrap.median(Clustered([chunks]))?.relativeHalfWidth ?? .infinity
        if width <= rule.targetCI { return true }
        confirmAtChunks = chunkSizes.count + max(1, chunkSizes.count / 5)
        return false
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
