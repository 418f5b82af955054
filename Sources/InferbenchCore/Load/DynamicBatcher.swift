import Foundation

/// A model replica the batcher can send batches to.
public protocol BatchWorker: Sendable {
    /// Runs one batch; the result carries the worker's own timing of the call.
    func infer(batchSize: Int) async throws(WorkerError) -> InferResult
    /// Replaces a dead worker with a fresh, loaded one. False when that failed too.
    func restart() async -> Bool
    var label: String { get }
    /// How many batches it runs at once (`--in-flight`): the batcher sends it another while
    /// fewer than this are at it.
    var slots: Int { get }
}

extension BatchWorker {
    /// One batch at a time, unless the worker says otherwise.
    public var slots: Int { 1 }
}

/// What happened to one request.
public struct RequestOutcome: Sendable {
    public enum Status: Sendable { case ok, rejected, failed }
    public var status: Status
    /// Monotonic seconds.
    public var scheduled: Double
    public var dispatched: Double?
    public var completed: Double
    /// Device (or worker host) time of the batch that carried it, ns.
    public var computeNS: Int64?
    /// Round trip to the worker minus the worker's own time for the call, ns.
    public var transportNS: Int64?
    public var batchSize: Int
    public var paddedBatchSize: Int
}

/// Collects requests into batches of up to `maxBatch` and sends them to whichever worker is
/// free, with Triton's dynamic-batcher semantics: when a worker is free and the queue fills
/// a preferred bucket (``BatchBuckets/fullest(_:)``), the largest such batch leaves at once;
/// otherwise the batcher waits until `maxDelay` after the oldest request's arrival and then
/// sends what it has. Waiting with a free worker and a full bucket would only add latency.
/// A worker with several slots (``BatchWorker/slots``, `--in-flight`) is free while one is.
///
/// The queue is bounded by `maxQueue`: beyond it a request is rejected at once (overload
/// shows as rejected requests, not as unbounded memory). Batches are padded up to the next
/// of `buckets` so that compiled models see only shapes they were warmed up with. A
/// worker that dies fails the requests of its batch, is restarted, and serving goes on.
///
/// The batcher owns the tasks it starts (one per batch in flight, and the max-delay timer):
/// ``shutdown()`` cancels the timer and waits for the batches, so that none outlives it.
public actor DynamicBatcher {
    struct Pending {
        var scheduled: Double
        var enqueued: Double
        var continuation: CheckedContinuation<RequestOutcome, Never>
    }

    private var queue: [Pending] = []
    /// Workers with a free slot, one entry per free slot.
    private var idle: [Int]
    private let workers: [any BatchWorker]
    private var alive: Set<Int>
    private let clock: any LoadClock
    public let maxBatch: Int
    public let maxDelay: Double
    public let maxQueue: Int
    public let buckets: BatchBuckets
    private var timer: Task<Void, Never>?
    private var timerDeadline = Double.infinity
    /// Batches sent to a worker and not yet back, by batch number.
    private var inFlight: [Int: Task<Void, Never>] = [:]
    private var batchesSent = 0
    private var shutDown = false
    public private(set) var restarts = 0
    public private(set) var workerDeaths: [String] = []
    /// Requests turned away because the queue was full (or no worker was left).
    public private(set) var rejected = 0

    /// `buckets` default to ``BatchBuckets/defaults(maxBatch:)``; given, their largest is
    /// `maxBatch`. `clock` is what the max-delay timer and the outcomes' timestamps read; a
    /// test passes one it moves by hand.
    public init(
        workers: [any BatchWorker], maxBatch: Int, maxDelay: Double, maxQueue: Int = 10_000, buckets: BatchBuckets? = nil,
        clock: any LoadClock = MonotonicClock()
    ) {
        precondition(buckets.map { $0.largest == maxBatch } ?? true, "the largest bucket is maxBatch")
        self.workers = workers
        self.idle = DynamicBatcher.slotOrder(workers)
        self.alive = Set(workers.indices)
        self.maxBatch = maxBatch
        self.maxDelay = maxDelay
        self.maxQueue = maxQueue
        self.buckets = buckets ?? .defaults(maxBatch: maxBatch)
        self.clock = clock
    }

    deinit { timer?.cancel() }

    /// One entry per slot: every worker's first slot before any worker's second, so that
    /// batches spread over the workers before they stack up on one.
    static func slotOrder(_ workers: [any BatchWorker]) -> [Int] {
        let most = workers.map(\.slots).max() ?? 0
        return (0..<most).flatMap { slot in workers.indices.filter { workers[$0].slots > slot } }
    }

    /// The batch size a worker runs for `n` requests: the smallest bucket that holds them.
    public func padded(_ n: Int) -> Int { buckets.padded(n) }

    /// Enqueues a request due at `scheduled` and returns when it is done, failed or rejected.
    public func submit(scheduled: Double) async -> RequestOutcome {
        let now = clock.seconds()
        if queue.count >= maxQueue || alive.isEmpty || shutDown {
            rejected += 1
            return RequestOutcome(status: .rejected, scheduled: scheduled, completed: now, batchSize: 0, paddedBatchSize: 0)
        }
        return await withCheckedContinuation { continuation in
            queue.append(Pending(scheduled: scheduled, enqueued: now, continuation: continuation))
            pump()
        }
    }

    public var queueDepth: Int { queue.count }

    /// Batches sent to a worker and not yet back.
    public var batchesInFlight: Int { inFlight.count }

    /// Stops serving: new requests are rejected, queued ones fail, the max-delay timer is
    /// cancelled, and it returns once every batch already sent to a worker is back (their
    /// requests complete as usual). Calling it again does nothing more.
    public func shutdown() async {
        shutDown = true
        timer?.cancel()
        timer = nil
        timerDeadline = .infinity
        failQueued(at: clock.seconds())
        while let task = inFlight.values.first { await task.value }
    }

    private func pump() {
        while !idle.isEmpty, !queue.isEmpty {
            let now = clock.seconds()
            guard let take = batchToSend(at: now) else { return }
            let batch = Array(queue.prefix(take))
            queue.removeFirst(take)
            let index = idle.removeFirst()
            dispatch(batch, to: index, at: now)
        }
    }

    /// How many queued requests a free worker takes now, nil to wait (with the timer armed
    /// for the oldest request's max-delay): a preferred bucket as soon as the queue fills one;
    /// once the oldest has waited `maxDelay`, all it can (up to `maxBatch`), padded.
    private func batchToSend(at now: Double) -> Int? {
        // The same sum as the timer's deadline, so that the timer firing always finds it due.
        let due = queue[0].enqueued + maxDelay
        if now >= due { return min(maxBatch, queue.count) }
        if let full = buckets.fullest(queue.count) { return full }
        armTimer(at: due)
        return nil
    }

    private func armTimer(at deadline: Double) {
        guard deadline < timerDeadline, !shutDown else { return }
        timer?.cancel()
        timerDeadline = deadline
        let clock = self.clock
        timer = Task { [weak self] in
            try? await clock.sleep(untilSeconds: deadline)
            guard !Task.isCancelled else { return }
            await self?.timerFired()
        }
    }

    private func timerFired() {
        timerDeadline = .infinity
        timer = nil
        pump()
    }

    private func dispatch(_ batch: [Pending], to index: Int, at time: Double) {
        let worker = workers[index]
        let size = padded(batch.count)
        let number = batchesSent
        batchesSent += 1
        // Isolated to the batcher (it captures `self`): only the worker's calls run elsewhere.
        inFlight[number] = Task { [self] in
            let start = clock.seconds()
            let result: Result<InferResult, WorkerError>
            do throws(WorkerError) { result = .success(try await worker.infer(batchSize: size)) } catch { result = .failure(error) }
            let end = clock.seconds()
            var restarted = true
            if case .failure(.failure(let why)) = result {
                recordDeath(index, why: why.summary)
                restarted = await worker.restart()
            }
            inFlight[number] = nil
            finish(batch, worker: index, result: result, dispatched: time, roundTrip: end - start, workerBack: restarted)
        }
    }

    private func recordDeath(_ index: Int, why: String) {
        workerDeaths.append("\(workers[index].label): \(why)")
    }

    private func finish(
        _ batch: [Pending], worker index: Int, result: Result<InferResult, WorkerError>, dispatched: Double, roundTrip: Double, workerBack: Bool
    ) {
        let now = clock.seconds()
        let size = padded(batch.count)
        for item in batch {
            switch result {
            case .success(let r):
                let compute = r.deviceNS ?? r.hostNS
                let transport = max(0, Int64(roundTrip * 1e9) - r.hostNS)
                item.continuation.resume(
                    returning: RequestOutcome(
                        status: .ok, scheduled: item.scheduled, dispatched: dispatched, completed: now, computeNS: compute,
                        transportNS: transport, batchSize: batch.count, paddedBatchSize: size))
            case .failure:
                item.continuation.resume(
                    returning: RequestOutcome(
                        status: .failed, scheduled: item.scheduled, dispatched: dispatched, completed: now, batchSize: batch.count, paddedBatchSize: size))
            }
        }
        if case .failure(.failure) = result {
            if workerBack { restarts += 1 } else { alive.remove(index) }
        }
        if alive.contains(index) { idle.append(index) } else { idle.removeAll { $0 == index } }
        // No worker left: fail what waits rather than hang.
        if alive.isEmpty { failQueued(at: now) }
        pump()
    }

    private func failQueued(at now: Double) {
        for item in queue {
            item.continuation.resume(
                returning: RequestOutcome(status: .failed, scheduled: item.scheduled, completed: now, batchSize: 0, paddedBatchSize: 0))
        }
        queue.removeAll()
    }
}
