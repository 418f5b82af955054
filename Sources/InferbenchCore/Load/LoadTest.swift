import Foundation

/// A load test: replicas of one model variant behind a dynamic batcher, driven by one scenario.
public struct LoadTest: Sendable {
    public enum Scenario: Sendable, Equatable {
        case openLoop(ArrivalSchedule, duration: Double)
        case closedLoop(concurrency: [Int], duration: Double)
        case findMaxQPS(SLASearch)
        case offlineOnly
    }

    /// One group of replicas: a starter (a Python, possibly pinned to a GPU) and how many.
    public struct ReplicaSet: Sendable {
        public var label: String
        public var starter: any WorkerStarter
        public var device: String
        public var count: Int

        public init(label: String, starter: any WorkerStarter, device: String, count: Int) {
            self.label = label
            self.starter = starter
            self.device = device
            self.count = count
        }
    }

    public var model: ModelSpec
    public var variant: Variant
    public var seed: Int
    public var replicaSets: [ReplicaSet]
    public var scenario: Scenario
    public var offline: Bool
    public var maxBatch: Int
    /// The batch sizes the workers warm and the batcher pads to; the largest is `maxBatch`.
    public var buckets: BatchBuckets
    public var maxDelay: Double
    public var maxQueue: Int
    public var window: Double
    /// Per-request lengths (`--seq-len`, `--pad-to`) and the model parameter they vary (bert's
    /// `seq`); nil: every request has the model's one shape.
    public var lengths: (plan: LengthPlan, parameter: String, warmup: ShapeWarmup)? = nil
    public var telemetry: TelemetrySampler?
    public var progress: @Sendable (String) -> Void
    /// Told of each step and each window as they happen, so that they can be recorded before
    /// the test ends (and survive it being killed). Called on the test's tasks: keep it quick.
    public var events: @Sendable (Event) -> Void = { _ in }

    /// What a load test reports while it runs.
    public enum Event: Sendable {
        /// The replicas are up; the offline throughput when it was asked for, and with
        /// `--payload host` on a GPU whether the rings were pinned (all of them).
        case started(offline: OfflineThroughput?, payloadPinned: Bool? = nil)
        /// Step `index` begins: its scenario, target and `phase_start`, no figures yet.
        case stepStarted(index: Int, LoadTestResult)
        /// A window of step `index` closed. Provisional: the step's final windows replace it
        /// (they also count requests that completed after the window was read).
        case window(step: Int, LoadTestResult.Window)
        /// Step `index` finished: its final figures and windows.
        case stepFinished(index: Int, LoadTestResult)
    }

    public init(
        model: ModelSpec, variant: Variant, seed: Int, replicaSets: [ReplicaSet], scenario: Scenario, offline: Bool,
        maxBatch: Int, buckets: BatchBuckets? = nil, maxDelay: Double, maxQueue: Int, window: Double, telemetry: TelemetrySampler?,
        progress: @escaping @Sendable (String) -> Void
    ) {
        self.model = model
        self.variant = variant
        self.seed = seed
        self.replicaSets = replicaSets
        self.scenario = scenario
        self.offline = offline
        self.maxBatch = maxBatch
        self.buckets = buckets ?? .defaults(maxBatch: maxBatch)
        self.maxDelay = maxDelay
        self.maxQueue = maxQueue
        self.window = window
        self.telemetry = telemetry
        self.progress = progress
    }

    public struct Outcome: Sendable {
        public var steps: [LoadTestResult] = []
        /// The offline rounds, when asked for (and before a search).
        public var offline: OfflineThroughput?
        /// `--find-max-qps`: what the search bracketed.
        public var capacity: Capacity?
        public var restarts = 0
        public var workerDeaths: [String] = []

        public init() {}
    }

    /// Batches each replica runs at once (`--in-flight`, 1 to ``WorkerReplica/maxInFlight``):
    /// the worker launches the next while the current one runs. The offline rounds use it too.
    public var inFlight = 1

    /// Where batches' inputs come from (`--payload`): `.host` copies every request's bytes
    /// through the worker's shared-memory ring to the device, as a server does; `.device` runs
    /// on inputs the worker made on the device (the compute-only ceiling). Offline takes the same path.
    public var payload = PayloadMode.device
    /// `--payload-file`: an absolute path to the .npy/.npz file whose samples requests carry.
    public var payloadFile: String?
    /// `--target`: a server the requests go to instead of replicas of inferbench's own (the
    /// replica sets, batching and payload settings then do not apply).
    public var target: (any RequestSink)?

    /// Rounds of the offline measurement, and how long each runs back to back (at least one
    /// batch): five rounds give an interval on the rate, not one figure.
    public var offlineRounds = 5
    public var offlineRoundSeconds = 1.0

    /// Fresh starts of all the workers that `--find-max-qps` and the offline rounds are
    /// measured on (`--processes`): `start` of them, and up to `most` while the starts'
    /// capacity brackets share no rate. On a cloud GPU a start can land in a state that serves
    /// 5–25% more or less for its whole life; one start's figures are one draw of that.
    public var workerStarts = (start: 1, most: 1)

    /// Starts the replicas, runs the scenario, stops the replicas — once per fresh start of the
    /// workers (see ``workerStarts``). Throws only when the first start's replicas could not
    /// start; a later start that fails is noted and the figures so far are kept. Cancelled
    /// while replicas start, it starts no more and runs no step.
    public func run() async throws(InferbenchError) -> Outcome {
        if let target { return await serve(target: target) }
        var outcome = Outcome()
        var offlineStarts: [[Double]] = []
        var brackets: [Capacity] = []
        let several = workerStarts.most > 1 && (isSearch || offline || scenario == .offlineOnly)
        var start = 1
        while !Task.isCancelled {
            var replicas: [WorkerReplica] = []
            do { try await startReplicas(into: &replicas) } catch {
                for r in replicas { await r.shutdown() }
                if Task.isCancelled { break }  // a stop ended the starting workers: no failure
                if start == 1 { throw error }
                outcome.workerDeaths.append("fresh start \(start) of the workers failed: \(error.description)")
                break
            }
            if Task.isCancelled {
                for r in replicas { await r.shutdown() }
                break
            }
            if several { progress("fresh start \(start) of the workers") }
            if offline || scenario == .offlineOnly || isSearch, let rounds = await offlineRounds(replicas, start: start) {
                offlineStarts.append(rounds)
                outcome.offline = OfflineThroughput(replicates: offlineStarts, roundSeconds: offlineRoundSeconds)
            }
            events(.started(offline: outcome.offline, payloadPinned: await payloadPinned(replicas)))
            let served = await serve(
                replicas, offline: outcome.offline, replicate: several ? start : nil, confirming: brackets.first, stepOffset: outcome.steps.count)
            for r in replicas { await r.shutdown() }
            outcome.steps += served.steps
            outcome.restarts += served.restarts
            outcome.workerDeaths += served.workerDeaths
            if let capacity = served.capacity { brackets.append(capacity) }
            outcome.capacity = brackets.count > 1 ? Capacity.union(brackets) : brackets.first
            guard several, start < workerStarts.most, start < workerStarts.start || Capacity.disjoint(brackets) else { break }
            start += 1
        }
        return outcome
    }

    /// Whether every replica's ring is page-locked; nil without rings or on a CPU, where
    /// nothing is pinned.
    func payloadPinned(_ replicas: [WorkerReplica]) async -> Bool? {
        guard payload == .host, replicaSets.contains(where: { $0.device.hasPrefix("cuda") }) else { return nil }
        var all = true
        for r in replicas where await r.payloadLayout?.pinned != true { all = false }
        return all
    }

    /// The offline rounds of one start, announced; nil when none measured.
    func offlineRounds(_ replicas: [WorkerReplica], start: Int) async -> [Double]? {
        let of = workerStarts.most > 1 ? " (start \(start))" : ""
        let at: String
        switch lengths.map({ OfflineLengths(warmup: $0.warmup) }) {
        case nil: at = ""
        case .drawn?: at = " at lengths drawn like the requests'"
        case .loaded?: at = " at the loaded length (not every length is warm)"
        }
        progress(
            "offline\(of): back-to-back throughput at batch \(maxBatch)\(at) on \(replicas.count) replica(s), \(offlineRounds) rounds of \(Format.trimmed(offlineRoundSeconds)) s"
        )
        return await offlineThroughput(replicas)?.roundsPerS
    }

    /// Starts every replica in turn, appending each to `replicas` as it comes up (so that the
    /// caller stops those already running when a later one fails).
    func startReplicas(into replicas: inout [WorkerReplica]) async throws(InferbenchError) {
        var params = model.params
        var loadedLength: Int? = nil
        if let lengths {
            // Loaded at the longest length: the load's own shape is then one a request can have.
            loadedLength = lengths.plan.buckets.last
            params[lengths.parameter] = String(loadedLength!)
        }
        let shapes = warmShapes
        for set in replicaSets {
            for i in 0..<set.count {
                if Task.isCancelled { return }
                let args = LoadArgs(
                    model: model.name, params: params, device: set.device, precision: variant.precision.rawValue,
                    compile: variant.compile.rawValue, batchSize: maxBatch, seed: seed, channelsLast: variant.channelsLast,
                    fullgraph: variant.fullgraph, dynamic: variant.dynamic)
                let replica = WorkerReplica(
                    label: "\(set.label)-\(i)", starter: set.starter, load: args, warmShapes: shapes, loadedLength: loadedLength, inFlight: inFlight,
                    payload: payload, payloadLengths: payloadLengths, payloadFile: payloadFile)
                progress("starting \(replica.label): load, compile and warm \(warmLabel)")
                _ = try await replica.start()
                replicas.append(replica)
            }
        }
    }

    /// Every replica started, or none: those already up are stopped when a later one fails or
    /// the task is cancelled (`inferbench serve`).
    func startedReplicas() async throws(InferbenchError) -> [WorkerReplica] {
        var replicas: [WorkerReplica] = []
        do { try await startReplicas(into: &replicas) } catch {
            for r in replicas { await r.shutdown() }
            throw error
        }
        if Task.isCancelled {
            for r in replicas { await r.shutdown() }
            throw .interrupted("stopped while the workers started")
        }
        return replicas
    }

    /// The padded lengths offline batches run at, drawn (seeded) from the requests' distribution,
    /// so that offline is the ceiling of this traffic, not of its longest length (an H100 run
    /// read capacity at 131% of an offline figure taken at 512 tokens for requests of ~150).
    /// Empty without lengths, or when not every length was warmed: a cold shape would time a
    /// compile, so offline then runs at the loaded length and says so.
    var offlineLengths: [Int] {
        guard let lengths, OfflineLengths(warmup: lengths.warmup) == .drawn else { return [] }
        var draws = lengths.plan.lengths.sampler(seed: UInt64(seed) &+ 0x0FF1)
        return (0..<4096).map { _ in lengths.plan.padded(draws.next()) }
    }

    /// The lengths a worker's payload ring holds samples at beside the loaded one: every image
    /// side (an image is not a prefix of a larger one); none for tokens, whose shorter rows are
    /// prefixes of the loaded length's samples.
    var payloadLengths: [Int] {
        guard let lengths, LengthAxis(rawValue: lengths.parameter) == .size else { return [] }
        return lengths.plan.buckets
    }

    /// The shapes the replicas warm: every batch bucket, at each warmed length with lengths.
    var warmShapes: [BatchShape] {
        guard let lengths else { return buckets.sizes.map { BatchShape(batch: $0) } }
        return lengths.warmup.lengths(lengths.plan).flatMap { l in buckets.sizes.map { BatchShape(batch: $0, length: l) } }
    }

    var warmLabel: String {
        guard let lengths else { return "batch buckets \(buckets)" }
        let count = warmShapes.count
        if count == 0 { return "nothing beyond the loaded shape (--warmup-shapes none)" }
        return "\(count) shapes: batch buckets \(buckets) × lengths \(ShapeWarmup.list(lengths.warmup.lengths(lengths.plan)))"
    }

    /// Runs the scenario on started replicas. `replicate` marks the steps of one of several
    /// starts; `confirming`, a capacity bracket an earlier start found, which a search checks
    /// (``SLASearch/confirm(_:step:)``) rather than searching from scratch. Steps are numbered
    /// from `stepOffset` in the events.
    func serve(
        _ replicas: [WorkerReplica], offline: OfflineThroughput? = nil, replicate: Int? = nil, confirming: Capacity? = nil, stepOffset: Int = 0
    ) async -> Outcome {
        if let telemetry {
            var pids: [Int32] = []
            for r in replicas { if let pid = await r.processID { pids.append(pid) } }
            telemetry.setWatchedPIDs(pids)
        }
        let batcher = DynamicBatcher(
            workers: replicas, maxBatch: maxBatch, maxDelay: maxDelay, maxQueue: maxQueue, buckets: buckets, lengths: lengths?.plan,
            seed: UInt64(seed) &+ UInt64(replicate ?? 1))
        var outcome = await drive(batcher, offline: offline, replicate: replicate, confirming: confirming, stepOffset: stepOffset)
        outcome.restarts = await batcher.restarts
        outcome.workerDeaths = await batcher.workerDeaths
        // Nothing of the batcher outlives the test: its timer and batches still at a worker.
        await batcher.shutdown()
        return outcome
    }

    /// `--target`: the scenario against a server that batches and runs the model itself. A
    /// search starts from what a short closed loop reached (there is no offline figure).
    func serve(target: any RequestSink) async -> Outcome {
        events(.started(offline: nil))
        var startRate: Double? = nil
        if isSearch {
            progress("probing the target: closed loop, concurrency 8, 2 s (where the search starts)")
            let probe = await LoadGenerator.closedLoop(target, concurrency: 8, duration: 2)
            let served = probe.outcomes.filter { $0.status == .ok }.count
            startRate = served > 0 ? Double(served) / probe.duration : nil
        }
        return await drive(target, offline: nil, startRate: startRate, replicate: nil, confirming: nil, stepOffset: 0)
    }

    /// Runs the scenario's steps against `sink`, reporting each as it goes.
    func drive(
        _ batcher: any RequestSink, offline: OfflineThroughput?, startRate: Double? = nil, replicate: Int?, confirming: Capacity?, stepOffset: Int
    ) async -> Outcome {
        var outcome = Outcome()
        switch scenario {
        case .offlineOnly:
            break
        case .openLoop(let schedule, let duration):
            progress("open loop, \(schedule.label), \(Int(duration)) s")
            var planned = LoadTestResult(scenario: schedule.label)
            planned.targetQPS = schedule.meanRate
            if case .ramp(let from, let to, _) = schedule { planned.rampQPS = [from, to] }
            let arrivals = schedule.arrivals(duration: duration)
            let sent = await observed(planned, index: 0, arrivals: arrivals, on: batcher) { start, collector in
                await LoadGenerator.openLoop(batcher, offsets: arrivals, lengths: schedule.lengths, duration: duration, start: start, collector: collector)
            }
            var step = finish(sent, scenario: schedule.label, target: schedule.meanRate, concurrency: nil)
            step.rampQPS = planned.rampQPS
            events(.stepFinished(index: 0, step))
            outcome.steps.append(step)
        case .closedLoop(let levels, let duration):
            for n in levels where !Task.isCancelled {
                progress("closed loop, concurrency \(n), \(Int(duration)) s")
                var planned = LoadTestResult(scenario: "concurrency \(n)")
                planned.concurrency = n
                let index = outcome.steps.count
                let sent = await observed(planned, index: index, arrivals: nil, on: batcher) { start, collector in
                    await LoadGenerator.closedLoop(batcher, concurrency: n, duration: duration, start: start, collector: collector)
                }
                let step = finish(sent, scenario: "concurrency \(n)", target: nil, concurrency: n)
                events(.stepFinished(index: index, step))
                outcome.steps.append(step)
            }
        case .findMaxQPS(let search):
            let found = await findMaxQPS(
                search, batcher: batcher, start: startRate ?? offline?.perS, replicate: replicate, confirming: confirming, stepOffset: stepOffset)
            outcome.steps = found.steps
            outcome.capacity = found.capacity
        }
        return outcome
    }

    /// The search (or, with `confirming`, the check of an earlier start's bracket) on one
    /// start's batcher; its steps carry `replicate` and results.json indices (`repeat_of`).
    func findMaxQPS(
        _ search: SLASearch, batcher: any RequestSink, start: Double?, replicate: Int?, confirming: Capacity?, stepOffset: Int
    ) async -> SLASearch.Outcome {
        var index = stepOffset
        let step: (Double, Int?) async -> LoadTestResult = { qps, local in
            let repeatOf = local.map { $0 + stepOffset }
            // A repeat runs the same rate on other arrivals; another start, on others again.
            let stepSeed =
                UInt64(seed) &+ UInt64(qps * 1000) &+ (repeatOf == nil ? 0 : 0x9E37_79B9) &+ UInt64(max(0, (replicate ?? 1) - 1)) &* 0x51ED_2701
            let plan = search.schedule(qps: qps, seed: stepSeed)
            let (duration, planned) = (plan.duration, plan.planned)
            let again = repeatOf.map { " again (close to the SLA at step \($0 + 1))" } ?? ""
            let on = replicate.map { ", start \($0)" } ?? ""
            progress("find-max-qps\(on): poisson \(Format.rate(qps)) qps\(again) for \(Int(duration.rounded())) s (\(planned) requests)")
            let scenario = "poisson \(Format.rate(qps)) qps"
            var announced = LoadTestResult(scenario: scenario)
            announced.targetQPS = qps
            announced.replicate = replicate
            let sent = await observed(announced, index: index, arrivals: plan.offsets, on: batcher) { start, collector in
                await LoadGenerator.openLoop(
                    batcher, offsets: plan.offsets, duration: duration, start: start, collector: collector, earlyStop: search.earlyStop(planned: planned))
            }
            var step = finish(sent, scenario: scenario, target: qps, concurrency: nil)
            step.replicate = replicate
            step.stoppedEarly = sent.outcomes.count < planned
            step.sla = search.figures(sent.outcomes, duration: sent.duration, planned: planned)
            search.judge(&step, repeatOf: repeatOf)
            events(.stepFinished(index: index, step))
            index += 1
            // Let the queue drain before the next step so steps do not bleed into each other.
            while await batcher.pending > 0 { try? await Task.sleep(for: .milliseconds(10)) }
            return step
        }
        var found: SLASearch.Outcome
        if let confirming {
            found = await search.confirm(confirming, step: step)
        } else {
            found = await search.run(start: (start ?? 100) * 0.5, step: step)
        }
        // The search numbers repeats among its own steps; results.json among all.
        for i in found.steps.indices {
            if let local = found.steps[i].sla?.repeatOf { found.steps[i].sla?.repeatOf = local + stepOffset }
        }
        return found
    }

    var isSearch: Bool { if case .findMaxQPS = scenario { return true } else { return false } }

    /// Runs one step's traffic (`send`, given its start time and the collector to fill) while
    /// a watcher reports each window as it closes. `arrivals` is the open-loop schedule, which
    /// gives a window's offered rate before its requests complete; nil for a closed loop.
    func observed(
        _ planned: LoadTestResult, index: Int, arrivals: ArrivalSchedule.Arrivals?, on sink: any RequestSink,
        send: @Sendable (Double, OutcomeCollector) async -> LoadGenerator.Sent
    ) async -> LoadGenerator.Sent {
        let before = await sink.serverStatistics()
        let start = Monotonic.now() + 0.01
        var announced = planned
        announced.phaseStart = start
        events(.stepStarted(index: index, announced))
        let collector = OutcomeCollector()
        var sent = await withTaskGroup(of: Void.self, returning: LoadGenerator.Sent.self) { group in
            group.addTask { await watchWindows(step: index, start: start, arrivals: arrivals, collector: collector) }
            let sent = await send(start, collector)
            group.cancelAll()
            return sent
        }
        if let before, let after = await sink.serverStatistics() { sent.server = (before, after) }
        return sent
    }

    /// Reports the windows of a running step as they close, until cancelled.
    func watchWindows(step: Int, start: Double, arrivals: ArrivalSchedule.Arrivals?, collector: OutcomeCollector) async {
        guard window > 0 else { return }
        var due = arrivals.map(ArrivalTally.init)
        var pending: [RequestOutcome] = []
        var read = 0
        var i = 0
        while true {
            let lo = start + Double(i) * window
            let hi = lo + window
            let wait = hi - Monotonic.now()
            if wait > 0 { try? await Task.sleep(for: .microseconds(Int64(wait * 1e6))) }
            if Task.isCancelled { return }
            let fresh = collector.outcomes(from: read)
            read += fresh.count
            pending += fresh
            let closed = pending.filter { $0.completed < hi }
            pending.removeAll { $0.completed < hi }
            let offered = due?.take(before: hi - start) ?? closed.count
            let samples = telemetry?.snapshot(from: lo, to: hi)
            events(.window(step: step, LoadSummary.window(from: lo, to: hi, stepStart: start, completed: closed, offered: offered, telemetry: samples)))
            i += 1
        }
    }

    func finish(_ sent: LoadGenerator.Sent, scenario: String, target: Double?, concurrency: Int?) -> LoadTestResult {
        let timeline = telemetry?.snapshot(from: sent.start, to: sent.start + sent.duration)
        var step = LoadSummary.summarize(sent, scenario: scenario, targetQPS: target, concurrency: concurrency, window: window, telemetry: timeline)
        step.telemetry = timeline?.aggregate(from: sent.start, to: sent.start + sent.duration, samplesProcessed: step.completed)
        step.warnings = LoadSummary.driftWarnings(step)
        if step.errors > 0 {
            step.warnings.append(
                CellWarning(
                    kind: .errors, message: "\(step.errors) requests failed (a worker died or answered with an error); they count as errors, not as latency"))
        }
        if step.late > 0 {
            step.warnings.append(
                CellWarning(
                    kind: .late,
                    message:
                        "\(step.late == 1 ? "1 request was" : "\(step.late) requests were") sent over 1 ms after their due time (the generator could not keep up); their latency still counts from the due time"
                ))
        }
        return step
    }

    /// The offline rounds: every replica back to back at the largest batch, all at once, in
    /// `offlineRounds` rounds; each round's rate sums the replicas'. Nil when none measured.
    func offlineThroughput(_ replicas: [WorkerReplica]) async -> OfflineThroughput? {
        let (maxBatch, rounds, seconds, lengths) = (self.maxBatch, offlineRounds, offlineRoundSeconds, offlineLengths)
        let perReplica = await withTaskGroup(of: [Double]?.self) { group in
            for r in replicas {
                group.addTask { try? await r.offlineRounds(batchSize: maxBatch, rounds: rounds, seconds: seconds, lengths: lengths) }
            }
            var out: [[Double]] = []
            for await rates in group { if let rates { out.append(rates) } }
            return out
        }
        let sums = (0..<rounds).map { i in perReplica.reduce(0) { $0 + ($1.indices.contains(i) ? $1[i] : 0) } }
        return OfflineThroughput(rounds: sums, roundSeconds: seconds)
    }
}

/// How an open loop's requests arrive (`--arrival`).
public enum ArrivalProcess: String, Sendable, CaseIterable {
    case poisson, constant, gamma

    /// The schedule at `qps` requests per second (`burstiness`: the gamma shape; 1 is Poisson).
    public func schedule(qps: Double, seed: UInt64, burstiness: Double = 1) -> ArrivalSchedule {
        switch self {
        case .poisson: return .poisson(qps: qps, seed: seed)
        case .constant: return .constant(qps: qps)
        case .gamma: return .gamma(qps: qps, burstiness: burstiness, seed: seed)
        }
    }
}
