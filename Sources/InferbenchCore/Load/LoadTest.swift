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
    public var maxDelay: Double
    public var maxQueue: Int
    public var window: Double
    public var telemetry: TelemetrySampler?
    public var progress: @Sendable (String) -> Void

    public init(
        model: ModelSpec, variant: Variant, seed: Int, replicaSets: [ReplicaSet], scenario: Scenario, offline: Bool,
        maxBatch: Int, maxDelay: Double, maxQueue: Int, window: Double, telemetry: TelemetrySampler?, progress: @escaping @Sendable (String) -> Void
    ) {
        self.model = model
        self.variant = variant
        self.seed = seed
        self.replicaSets = replicaSets
        self.scenario = scenario
        self.offline = offline
        self.maxBatch = maxBatch
        self.maxDelay = maxDelay
        self.maxQueue = maxQueue
        self.window = window
        self.telemetry = telemetry
        self.progress = progress
    }

    public struct Outcome: Sendable {
        public var steps: [LoadTestResult]
        public var offlineThroughput: Double?
        public var bestQPS: Double?
        public var restarts: Int
        public var workerDeaths: [String]
    }

    /// Starts the replicas, runs the scenario, stops the replicas. Throws only when no
    /// replica could start.
    public func run() async throws(InferbenchError) -> Outcome {
        let sizes = DynamicBatcher.paddedSizes(maxBatch: maxBatch)
        var replicas: [WorkerReplica] = []
        defer { let all = replicas; Task { for r in all { await r.shutdown() } } }
        for set in replicaSets {
            for i in 0..<set.count {
                let args = LoadArgs(
                    model: model.name, params: model.params, device: set.device, precision: variant.precision.rawValue,
                    compile: variant.compile.rawValue, batchSize: maxBatch, seed: seed, channelsLast: variant.channelsLast,
                    fullgraph: variant.fullgraph, dynamic: variant.dynamic)
                let replica = WorkerReplica(label: "\(set.label)-\(i)", starter: set.starter, load: args, warmSizes: sizes)
                progress("starting \(replica.label): load, compile and warm batch sizes \(sizes.map(String.init).joined(separator: ","))")
                _ = try await replica.start()
                replicas.append(replica)
            }
        }
        if let telemetry {
            var pids: [Int32] = []
            for r in replicas { if let pid = await r.processID { pids.append(pid) } }
            telemetry.setWatchedPIDs(pids)
        }
        var outcome = Outcome(steps: [], offlineThroughput: nil, bestQPS: nil, restarts: 0, workerDeaths: [])
        if offline || scenario == .offlineOnly || isSearch {
            progress("offline: back-to-back throughput at batch \(maxBatch) on \(replicas.count) replica(s)")
            outcome.offlineThroughput = await offlineThroughput(replicas)
        }
        let batcher = DynamicBatcher(workers: replicas, maxBatch: maxBatch, maxDelay: maxDelay, maxQueue: maxQueue, batchSizes: sizes)
        switch scenario {
        case .offlineOnly:
            break
        case .openLoop(let schedule, let duration):
            progress("open loop, \(schedule.label), \(Int(duration)) s")
            let sent = await LoadGenerator.openLoop(batcher, offsets: schedule.offsets(duration: duration), duration: duration)
            outcome.steps.append(finish(sent, scenario: schedule.label, target: schedule.meanRate, concurrency: nil))
        case .closedLoop(let levels, let duration):
            for n in levels where !Task.isCancelled {
                progress("closed loop, concurrency \(n), \(Int(duration)) s")
                let sent = await LoadGenerator.closedLoop(batcher, concurrency: n, duration: duration)
                outcome.steps.append(finish(sent, scenario: "concurrency \(n)", target: nil, concurrency: n))
            }
        case .findMaxQPS(let search):
            let start = (outcome.offlineThroughput ?? 100) * 0.5
            let found = await search.run(start: start) { qps in
                let duration = search.duration(for: qps)
                let offsets = ArrivalSchedule.poisson(qps: qps, seed: UInt64(seed) &+ UInt64(qps * 1000)).offsets(duration: duration)
                progress(String(format: "find-max-qps: poisson %.1f qps for %.0f s (%d requests)", qps, duration, offsets.count))
                let planned = offsets.count
                let sent = await LoadGenerator.openLoop(batcher, offsets: offsets, duration: duration) { outcomes in
                    search.failedEarly(outcomes, planned: planned)
                }
                var step = finish(sent, scenario: String(format: "poisson %.1f qps", qps), target: qps, concurrency: nil)
                step.stoppedEarly = sent.outcomes.count < planned
                // Let the queue drain before the next step so steps do not bleed into each other.
                while await batcher.queueDepth > 0 { try? await Task.sleep(for: .milliseconds(10)) }
                return step
            }
            outcome.steps = found.steps
            outcome.bestQPS = found.best
        }
        outcome.restarts = await batcher.restarts
        outcome.workerDeaths = await batcher.workerDeaths
        for r in replicas { await r.shutdown() }
        replicas = []
        return outcome
    }

    var isSearch: Bool { if case .findMaxQPS = scenario { return true } else { return false } }

    func finish(_ sent: LoadGenerator.Sent, scenario: String, target: Double?, concurrency: Int?) -> LoadTestResult {
        let timeline = telemetry?.snapshot(from: sent.start, to: sent.start + sent.duration)
        var step = LoadSummary.summarize(sent, scenario: scenario, targetQPS: target, concurrency: concurrency, window: window, telemetry: timeline)
        step.telemetry = timeline?.aggregate(from: sent.start, to: sent.start + sent.duration, samplesProcessed: step.completed)
        step.warnings = LoadSummary.driftWarnings(step)
        if step.errors > 0 {
            step.warnings.append(
                CellWarning(
                    kind: "errors", message: "\(step.errors) requests failed (a worker died or answered with an error); they count as errors, not as latency"))
        }
        if step.late > 0 {
            step.warnings.append(
                CellWarning(
                    kind: "late",
                    message:
                        "\(step.late) requests were sent over 1 ms after their due time (the generator could not keep up); their latency still counts from the due time"
                ))
        }
        return step
    }

    func offlineThroughput(_ replicas: [WorkerReplica]) async -> Double? {
        let maxBatch = self.maxBatch
        let rates = await withTaskGroup(of: Double?.self) { group in
            for r in replicas { group.addTask { try? await r.offlineThroughput(batchSize: maxBatch, seconds: 3) } }
            var out: [Double] = []
            for await rate in group { if let rate { out.append(rate) } }
            return out
        }
        return rates.isEmpty ? nil : rates.reduce(0, +)
    }
}
