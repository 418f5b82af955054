import Foundation

/// A model replica the batcher can send batches to.
public protocol BatchWorker: Sendable {
    /// Runs one batch of `batchSize` samples (at `length` tokens, for a model with a length
    /// axis; nil: the length it was loaded at); the result carries the worker's own timing of
    /// the call and the recompiles it set off.
    func infer(batchSize: Int, length: Int?) async throws(WorkerError) -> InferResult
    /// The same, told each real request's own length (nil: the batch's), one per row, so that
    /// a worker that carries the requests' inputs (`--payload host`) pads each row as a server would.
    func infer(batchSize: Int, length: Int?, rows: [Int?]) async throws(WorkerError) -> InferResult
    /// `inferbench serve`: runs a batch of `batchSize` on the requests' own inputs
    /// (`inputs[row][input]`, one sample each) and returns each request's outputs
    /// (`[row][output]`) beside the call's timing.
    func infer(batchSize: Int, inputs: [[[UInt8]]]) async throws(WorkerError) -> (InferResult, [[[UInt8]]])
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

    /// Workers that carry no inputs need only the batch's shape.
    public func infer(batchSize: Int, length: Int?, rows: [Int?]) async throws(WorkerError) -> InferResult {
        try await infer(batchSize: batchSize, length: length)
    }

    /// Workers without a payload ring cannot take the requests' own inputs.
    public func infer(batchSize: Int, inputs: [[[UInt8]]]) async throws(WorkerError) -> (InferResult, [[[UInt8]]]) {
        throw .reply(WorkerErrorPayload(kind: .internal, message: "\(label) carries no request inputs (it has no payload ring)"))
    }
}

/// What happened to one request.
public struct RequestOutcome: Sendable {
    public enum Status: Sendable { case ok, rejected, failed }
    public var status: Status
    /// Why a request failed or was turned away, when the path knows more than its status (an
    /// HTTP target: status codes, timeouts, closed connections, answers of the wrong shape).
    public var failure: RequestFailure? = nil
    /// Monotonic seconds.
    public var scheduled: Double
    public var dispatched: Double?
    public var completed: Double
    /// Device (or worker host) time of the batch that carried it, ns.
    public var computeNS: Int64?
    /// Round trip to the worker minus the worker's own time for the call, ns (with
    /// `--payload host` it holds gathering the batch into the ring and reading its outputs).
    public var transportNS: Int64?
    /// With `--payload host`: the batch's copy to the device and of its outputs back, ns.
    public var h2dNS: Int64?
    public var d2hNS: Int64?
    public var batchSize: Int
    public var paddedBatchSize: Int
    /// `inferbench serve`: the request's own rows of each of the model's outputs.
    public var outputs: [[UInt8]]? = nil
    /// The request's own length and the length its batch ran at (`--seq-len`); nil without.
    public var length: Int? = nil
    public var paddedLength: Int? = nil
    /// Recompiles its batch set off, told on the batch's first request only (so that summing
    /// over requests counts each batch once), with their reasons.
    public var recompiles = 0
    public var compileReasons: [String] = []
    /// Its batch was the worker's first at its shape (compiled, or eager and never run): its
    /// latency is the cost of a cold shape.
    public var coldShape = false
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
public actor DynamicBatcher: RequestSink {
    struct Pending {
        var scheduled: Double
        var enqueued: Double
        var length: Int?
        /// `inferbench serve`: the request's own input bytes, one sample of each input.
        var input: [[UInt8]]? = nil
        var continuation: CheckedContinuation<RequestOutcome, Never>
    }

    /// Waiting requests by the length their batch will run at (0 without `--seq-len`): only
    /// requests of one padded length batch together. Each queue is in arrival order.
    private var queues: [Int: [Pending]] = [:]
    private var queued = 0
    /// Where requests' lengths come from and the buckets they pad to; nil: one shape.
    public let lengths: LengthPlan?
    private var lengthDraws: SequenceLengths.Sampler?
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
        lengths: LengthPlan? = nil, seed: UInt64 = 0, clock: any LoadClock = MonotonicClock()
    ) {
        precondition(buckets.map { $0.largest == maxBatch } ?? true, "the largest bucket is maxBatch")
        self.workers = workers
        self.idle = DynamicBatcher.slotOrder(workers)
        self.alive = Set(workers.indices)
        self.maxBatch = maxBatch
        self.maxDelay = maxDelay
        self.maxQueue = maxQueue
        self.buckets = buckets ?? .defaults(maxBatch: maxBatch)
        self.lengths = lengths
        self.lengthDraws = lengths?.lengths.sampler(seed: seed)
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
    /// With lengths (``lengths``) it is `length` tokens long, or, when nil, as long as the next
    /// seeded draw says.
    public func submit(scheduled: Double, length: Int? = nil) async -> RequestOutcome {
        await submit(scheduled: scheduled, length: length, input: nil)
    }

    /// The same, carrying the request's own inputs (`inferbench serve`): the outcome then
    /// carries its own outputs. A batcher is fed requests with inputs or without, not both.
    public func submit(scheduled: Double, length: Int?, input: [[UInt8]]?) async -> RequestOutcome {
        let now = clock.seconds()
        let length = lengths == nil ? nil : length ?? lengthDraws?.next()
        if queued >= maxQueue || alive.isEmpty || shutDown {
            rejected += 1
            return RequestOutcome(
                status: .rejected, failure: .overloaded, scheduled: scheduled, completed: now, batchSize: 0, paddedBatchSize: 0, length: length)
        }
        return await withCheckedContinuation { continuation in
            queues[paddedLength(length) ?? 0, default: []].append(
                Pending(scheduled: scheduled, enqueued: now, length: length, input: input, continuation: continuation))
            queued += 1
            pump()
        }
    }

    private func paddedLength(_ length: Int?) -> Int? { length.flatMap { lengths?.padded($0) } }

    public var queueDepth: Int { queued }

    /// Requests waiting for a batch (those in a batch at a worker are the worker's).
    public var pending: Int { queued }

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
        while !idle.isEmpty, queued > 0 {
            let now = clock.seconds()
            guard let (key, take) = batchToSend(at: now) else { return }
            let batch = Array(queues[key]!.prefix(take))
            queues[key]!.removeFirst(take)
            if queues[key]!.isEmpty { queues[key] = nil }
            queued -= take
            let index = idle.removeFirst()
            dispatch(batch, length: key == 0 ? nil : key, to: index, at: now)
        }
    }

    /// Which queue a free worker takes from now and how many, nil to wait (with the timer armed
    /// for the earliest max-delay): the queue whose oldest request has waited `maxDelay`, all
    /// it can (up to `maxBatch`), padded; else a preferred bucket as soon as a queue fills one.
    /// Among several, the one whose oldest request came first. With one shape there is one
    /// queue, and this is Triton's dynamic batcher.
    private func batchToSend(at now: Double) -> (key: Int, take: Int)? {
        var due: (key: Int, enqueued: Double)? = nil
        var full: (key: Int, enqueued: Double, take: Int)? = nil
        for (key, queue) in queues {
            let head = queue[0].enqueued
            // The same sum as the timer's deadline, so that the timer firing always finds it due.
            if now >= head + maxDelay, head < due?.enqueued ?? .infinity { due = (key, head) }
            if let take = buckets.fullest(queue.count), head < full?.enqueued ?? .infinity { full = (key, head, take) }
        }
        if let due { return (due.key, min(maxBatch, queues[due.key]!.count)) }
        if let full { return (full.key, full.take) }
        armTimer(at: queues.values.map { $0[0].enqueued }.min()! + maxDelay)
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

    private func dispatch(_ batch: [Pending], length: Int?, to index: Int, at time: Double) {
        let worker = workers[index]
        let size = padded(batch.count)
        let number = batchesSent
        batchesSent += 1
        // Isolated to the batcher (it captures `self`): only the worker's calls run elsewhere.
        inFlight[number] = Task { [self] in
            let start = clock.seconds()
            let result: Result<InferResult, WorkerError>
            var outputs: [[[UInt8]]]? = nil
            do throws(WorkerError) {
                if let inputs = batch.map(\.input) as? [[[UInt8]]] {
                    let (r, o) = try await worker.infer(batchSize: size, inputs: inputs)
                    (result, outputs) = (.success(r), o)
                } else {
                    result = .success(try await worker.infer(batchSize: size, length: length, rows: batch.map(\.length)))
                }
            } catch { result = .failure(error) }
            let end = clock.seconds()
            var restarted = true
            if case .failure(.failure(let why)) = result {
                recordDeath(index, why: why.summary)
                restarted = await worker.restart()
            }
            inFlight[number] = nil
            finish(
                batch, length: length, worker: index, result: result, outputs: outputs, dispatched: time, roundTrip: end - start, workerBack: restarted)
        }
    }

    private func recordDeath(_ index: Int, why: String) {
        workerDeaths.append("\(workers[index].label): \(why)")
    }

    private func finish(
        _ batch: [Pending], length: Int?, worker index: Int, result: Result<InferResult, WorkerError>, outputs: [[[UInt8]]]? = nil,
        dispatched: Double, roundTrip: Double, workerBack: Bool
    ) {
        let now = clock.seconds()
        let size = padded(batch.count)
        for (position, item) in batch.enumerated() {
            var outcome = RequestOutcome(
                status: .failed, failure: .worker, scheduled: item.scheduled, dispatched: dispatched, completed: now, batchSize: batch.count,
                paddedBatchSize: size,
                length: item.length, paddedLength: length)
            if case .success(let r) = result {
                (outcome.status, outcome.failure) = (.ok, nil)
                // On the host clock (a CPU) the worker's time holds its copies too: compute is the model alone.
                outcome.computeNS = r.deviceNS ?? max(0, r.hostNS - (r.h2dNS ?? 0) - (r.d2hNS ?? 0))
                outcome.transportNS = max(0, Int64(roundTrip * 1e9) - r.hostNS)
                (outcome.h2dNS, outcome.d2hNS) = (r.h2dNS, r.d2hNS)
                outcome.coldShape = r.coldShape
                outcome.outputs = outputs.flatMap { position < $0.count ? $0[position] : nil }
                if position == 0 {
                    outcome.recompiles = r.recompiles ?? 0
                    outcome.compileReasons = r.compileReasons ?? []
                }
            }
            item.continuation.resume(returning: outcome)
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
        for item in queues.values.joined() {
            item.continuation.resume(
                returning: RequestOutcome(
                    status: .failed, failure: .worker, scheduled: item.scheduled, completed: now, batchSize: 0, paddedBatchSize: 0, length: item.length))
        }
        queues.removeAll()
        queued = 0
    }
}
