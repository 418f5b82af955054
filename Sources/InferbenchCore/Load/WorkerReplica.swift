import Foundation

/// A loaded worker serving batches for a load test; restarts itself from its recipe.
///
/// It runs up to ``slots`` batches at once (`--in-flight`): the worker launches the next while
/// the current one runs. When the worker dies, the first batch to learn of it throws the
/// failure (the batcher counts one death) and the restart begins at once; the other batches
/// that were in flight on it end as an error reply, and batches sent meanwhile wait for the
/// restart.
public actor WorkerReplica: BatchWorker {
    public nonisolated let label: String
    /// Batches in flight at once, 1 to ``WorkerReplica/maxInFlight``.
    public nonisolated let slots: Int
    private let starter: any WorkerStarter
    private let load: LoadArgs
    private let warmSizes: [Int]
    private var worker: Worker?
    /// The restart after a death, until the batcher has taken its result (``restart()``).
    private var restarting: Task<Bool, Never>?

    /// The most batches a worker holds at once (the worker's own bound).
    public static let maxInFlight = 8

    public init(label: String, starter: any WorkerStarter, load: LoadArgs, warmSizes: [Int], inFlight: Int = 1) {
        self.label = label
        self.starter = starter
        self.load = load
        self.warmSizes = warmSizes
        self.slots = min(max(1, inFlight), Self.maxInFlight)
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
        if let restarting { _ = await restarting.value }
        guard let worker else { throw .failure(.exited(status: "not started", stderrTail: "")) }
        do {
            return try await worker.infer(batchSize: batchSize, inFlight: slots)
        } catch {
            guard case .failure(let failure) = error else { throw error }
            guard self.worker === worker else { throw .reply(Self.lost(failure)) }
            self.worker = nil
            restarting = Task { await self.replace(worker) }
            throw error
        }
    }

    /// A batch that was in flight when another batch saw its worker die.
    static func lost(_ failure: WorkerFailure) -> WorkerErrorPayload {
        WorkerErrorPayload(kind: .internal, message: "the worker died with this batch in flight: \(failure.summary)")
    }

    /// The restart that a death began, or a fresh one; its result is then the caller's.
    public func restart() async -> Bool {
        let task = restarting ?? Task { await self.replace(self.worker) }
        restarting = task
        let back = await task.value
        if restarting == task { restarting = nil }
        return back
    }

    private func replace(_ old: Worker?) async -> Bool {
        if let old { await old.kill() }
        if worker === old { worker = nil }
        do {
            _ = try await start()
            return true
        } catch {
            return false
        }
    }

    public var processID: Int32? { get async { await worker?.processID } }

    /// Back-to-back throughput at `batchSize` on this worker, the offline scenario, in `rounds`
    /// rounds of about `seconds` each (at least one batch per slot): samples per second of each
    /// round. The batches take the serving path, ``slots`` in flight, so that the load test's
    /// efficiency (its capacity ÷ this) compares like with like.
    public func offlineRounds(batchSize: Int, rounds: Int, seconds: Double) async throws(WorkerError) -> [Double] {
        guard worker != nil else { throw .failure(.exited(status: "not started", stderrTail: "")) }
        var rates: [Double] = []
        for _ in 0..<max(1, rounds) { rates.append(try await offlineRound(batchSize: batchSize, seconds: seconds)) }
        return rates
    }

    /// One round: every slot sends batches one after another until `seconds` have passed.
    private func offlineRound(batchSize: Int, seconds: Double) async throws(WorkerError) -> Double {
        let start = Monotonic.now()
        let deadline = start + seconds
        let perSlot = await withTaskGroup(of: Result<Int, WorkerError>.self) { group in
            for _ in 0..<slots {
                group.addTask {
                    var batches = 0
                    repeat {
                        do throws(WorkerError) { _ = try await self.infer(batchSize: batchSize) } catch { return .failure(error) }
                        batches += 1
                    } while Monotonic.now() < deadline
                    return .success(batches)
                }
            }
            var all: [Result<Int, WorkerError>] = []
            for await r in group { all.append(r) }
            return all
        }
        var batches = 0
        for r in perSlot { batches += try r.get() }
        return Double(batches * batchSize) / max(Monotonic.now() - start, 1e-9)
    }

    public func shutdown() async {
        if let restarting { _ = await restarting.value }
        await worker?.shutdown()
        worker = nil
    }
}
