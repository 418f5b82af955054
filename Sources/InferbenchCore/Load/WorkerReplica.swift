import Foundation

/// A loaded worker serving batches for a load test; restarts itself from its recipe.
public actor WorkerReplica: BatchWorker {
    public nonisolated let label: String
    private let starter: any WorkerStarter
    private let load: LoadArgs
    private let warmSizes: [Int]
    private var worker: Worker?

    public init(label: String, starter: any WorkerStarter, load: LoadArgs, warmSizes: [Int]) {
        self.label = label
        self.starter = starter
        self.load = load
        self.warmSizes = warmSizes
    }

    /// Starts the worker, loads the model and runs each padded batch size a few times, so
    /// compilation and autotuning happen before the test, not in its latencies.
    ///
    /// A stop (Ctrl-C, SIGTERM) while it loads, compiles or warms ends the worker at once: it
    /// has measured nothing yet, and a compile can take a minute (on an H200, a fresh start of
    /// resnet50 `default` held a stop back for 51 s).
    public func start() async throws(InferbenchError) -> LoadResult {
        let (w, _) = try await starter.start(label: label)
        let warmSizes = warmSizes
        let load = load
        let prepared: Result<LoadResult, WorkerError> = await withTaskCancellationHandler {
            do throws(WorkerError) {
                let result = try await w.load(load)
                for size in warmSizes {
                    for _ in 0..<3 { _ = try await w.infer(batchSize: size) }
                }
                return .success(result)
            } catch {
                return .failure(error)
            }
        } onCancel: {
            Task { await w.kill() }
        }
        switch prepared {
        case .success(let result):
            worker = w
            return result
        case .failure(let error):
            await w.kill()
            throw .worker("\(label): \(Task.isCancelled ? "stopped while starting" : WorkerError.describe(error))")
        }
    }

    public func infer(batchSize: Int) async throws(WorkerError) -> InferResult {
        guard let worker else { throw .failure(.exited(status: "not started", stderrTail: "")) }
        return try await worker.infer(batchSize: batchSize)
    }

    public func restart() async -> Bool {
        if let worker { await worker.kill() }
        worker = nil
        do {
            _ = try await start()
            return true
        } catch {
            return false
        }
    }

    public var processID: Int32? { get async { await worker?.processID } }

    /// Back-to-back throughput at `batchSize` on this worker, the offline scenario, in `rounds`
    /// rounds of about `seconds` each (at least one batch): samples per second of each round.
    public func offlineRounds(batchSize: Int, rounds: Int, seconds: Double) async throws(WorkerError) -> [Double] {
        guard let worker else { throw .failure(.exited(status: "not started", stderrTail: "")) }
        let probe = try await worker.measureThroughput(batchSize: batchSize, iterations: 3)
        let per = Double(probe.totalNS) / 1e9 / 3
        let iterations = max(1, Int(seconds / max(per, 1e-6)))
        var rates: [Double] = []
        for _ in 0..<max(1, rounds) {
            let chunk = try await worker.measureThroughput(batchSize: batchSize, iterations: iterations)
            rates.append(Double(batchSize * chunk.iterations) / (Double(chunk.totalNS) / 1e9))
        }
        return rates
    }

    public func shutdown() async {
        await worker?.shutdown()
        worker = nil
    }
}
