import Foundation

/// The shape of a batch a worker runs: its padded size and, for a model with a length axis,
/// its padded length (nil: the length the model was loaded at).
public struct BatchShape: Sendable, Hashable, CustomStringConvertible {
    public var batch: Int
    public var length: Int?

    public init(batch: Int, length: Int? = nil) {
        self.batch = batch
        self.length = length
    }

    public var description: String { length.map { "\(batch)×\($0)" } ?? String(batch) }
}

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
    private let warmShapes: [BatchShape]
    private let loadedLength: Int?
    /// Shapes this worker process has run (its warm-up's among them); a batch of any other
    /// is cold: it pays a compile, or an eager first call.
    private var seen: Set<BatchShape> = []
    private var worker: Worker?
    /// The restart after a death, until the batcher has taken its result (``restart()``).
    private var restarting: Task<Bool, Never>?
    /// `--payload host`: the ring each batch's inputs travel through (one per worker process).
    public nonisolated let payload: PayloadMode
    private let payloadLengths: [Int]
    /// `--payload-file`: a .npy/.npz file whose samples the requests carry (nil: the model's own).
    private let payloadFile: String?
    private var ring: PayloadRing?
    /// The ring's layout, once a worker opened it (what the results record: pinned or not).
    public private(set) var payloadLayout: PayloadLayout?

    /// The most batches a worker holds at once (the worker's own bound).
    public static let maxInFlight = 8

    /// `warmShapes`: what the worker runs before serving; the shape of the load itself (the
    /// load's batch size, at the length it was loaded at) is warm without being named.
    /// `loadedLength`: the length the load's parameters give (bert's `seq`), for a model
    /// served at several; a batch at it is sent without a length, as the load's own shape.
    /// `payload`: `.host` sends every batch's inputs through a shared-memory ring whose samples
    /// the worker makes at the loaded shape and at each of `payloadLengths` (image sides: an
    /// image is not a prefix of a larger one, as a shorter token row is of a longer one).
    public init(
        label: String, starter: any WorkerStarter, load: LoadArgs, warmShapes: [BatchShape], loadedLength: Int? = nil, inFlight: Int = 1,
        payload: PayloadMode = .device, payloadLengths: [Int] = [], payloadFile: String? = nil
    ) {
        self.label = label
        self.payload = payload
        self.payloadFile = payloadFile
        self.payloadLengths = payloadLengths.filter { $0 != loadedLength }
        self.starter = starter
        self.load = load
        self.loadedLength = loadedLength
        self.warmShapes = warmShapes.map { BatchShape(batch: $0.batch, length: $0.length == loadedLength ? nil : $0.length) }
        self.slots = min(max(1, inFlight), Self.maxInFlight)
    }

    /// Warm-up on every padded batch size at the loaded length.
    public init(label: String, starter: any WorkerStarter, load: LoadArgs, warmSizes: [Int], inFlight: Int = 1, payload: PayloadMode = .device) {
        self.init(label: label, starter: starter, load: load, warmShapes: warmSizes.map { BatchShape(batch: $0) }, inFlight: inFlight, payload: payload)
    }

    /// Starts the worker, loads the model and runs each warm shape a few times, so
    /// compilation and autotuning happen before the test, not in its latencies.
    ///
    /// A stop (Ctrl-C, SIGTERM) while it loads, compiles or warms ends the worker at once: it
    /// has measured nothing yet, and a compile can take a minute (on an H200, a fresh start of
    /// resnet50 `default` held a stop back for 51 s).
    public func start() async throws(InferbenchError) -> LoadResult {
        let (w, _) = try await starter.start(label: label)
        let warmShapes = warmShapes
        let load = load
        let prepared: Result<LoadResult, InferbenchError> = await withTaskCancellationHandler {
            do throws(InferbenchError) {
                let result: LoadResult
                do throws(WorkerError) { result = try await w.load(load) } catch { throw .worker(WorkerError.describe(error)) }
                try await openRing(on: w)
                for shape in warmShapes {
                    // The first call of each shape checks that the ring's bytes arrive intact.
                    for k in 0..<3 { _ = try await warm(w, shape: shape, checksum: k == 0) }
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
            seen = Set(warmShapes + [BatchShape(batch: load.batchSize)])
            return result
        case .failure(let error):
            await w.kill()
            closeRing()
            // A payload file the model cannot take is the user's to fix, not a worker failure.
            if case .badInput = error, !Task.isCancelled { throw error }
            throw .worker("\(label): \(Task.isCancelled ? "stopped while starting" : error.description)")
        }
    }

    /// `--payload host`: asks the worker for its ring (a new one per worker process).
    private func openRing(on w: Worker) async throws(InferbenchError) {
        closeRing()
        guard payload == .host else { return }
        let args = PayloadOpenArgs(slots: slots, maxBatch: load.batchSize, lengths: payloadFile == nil ? payloadLengths : [], pool: 64, file: payloadFile)
        do throws(WorkerError) { payloadLayout = try await w.payloadOpen(args) } catch {
            if let file = payloadFile, case .reply(let reply) = error, reply.kind == .badRequest, reply.message.contains(file) {
                throw .badInput(reply.message)
            }
            throw .worker(WorkerError.describe(error))
        }
        ring = try PayloadRing(payloadLayout!, slots: slots)
    }

    private func closeRing() {
        ring?.close()
        ring = nil
    }

    /// One warm-up call of full rows; with `checksum`, the worker's CRC of what arrived must be
    /// what was written.
    private func warm(_ w: Worker, shape: BatchShape, checksum: Bool) async throws(InferbenchError) -> InferResult {
        do throws(WorkerError) {
            // One at a time, as before serving: nothing else is in flight on `w` yet.
            return try await run(
                w, batchSize: shape.batch, length: shape.length, rows: Array(repeating: nil, count: shape.batch), inFlight: 1, checksum: checksum)
        } catch {
            throw .worker(WorkerError.describe(error))
        }
    }

    /// One batch on `w`: without a ring, on the worker's own inputs; with one, its rows
    /// gathered into a free slot, the outputs read back from it.
    /// `inFlight`: how many calls the worker may hold (nil: ``slots``).
    private func run(
        _ w: Worker, batchSize: Int, length: Int?, rows: [Int?], inFlight: Int? = nil, checksum: Bool = false
    ) async throws(WorkerError)
        -> InferResult
    {
        let inFlight = inFlight ?? slots
        guard let ring else { return try await w.infer(batchSize: batchSize, length: length, inFlight: inFlight) }
        guard let slot = ring.acquire() else { throw .reply(WorkerErrorPayload(kind: .internal, message: "no free payload slot")) }
        defer { ring.release(slot) }
        let written: UInt32?
        do { written = try ring.gather(slot: slot, rows: rows, batch: batchSize, length: length, checksum: checksum) } catch {
            throw .reply(WorkerErrorPayload(kind: .badRequest, message: error.description))
        }
        let call = PayloadCall(slot: slot, rows: rows.count, checksum: checksum)
        let result = try await w.infer(batchSize: batchSize, length: length, inFlight: inFlight, payload: call)
        if let written, result.checksum != written {
            let got = result.checksum.map { String($0, radix: 16) } ?? "none"
            throw .reply(WorkerErrorPayload(kind: .internal, message: "payload corrupted: wrote CRC-32 \(String(written, radix: 16)), the worker read \(got)"))
        }
        ring.readOutputs(slot: slot, bytes: result.outputBytes ?? 0)
        return result
    }

    public func infer(batchSize: Int, length: Int?) async throws(WorkerError) -> InferResult {
        try await infer(batchSize: batchSize, length: length, rows: Array(repeating: nil, count: batchSize))
    }

    /// `rows`: the requests' own lengths (nil: the batch's), one per real sample.
    public func infer(batchSize: Int, length: Int?, rows: [Int?]) async throws(WorkerError) -> InferResult {
        if let restarting { _ = await restarting.value }
        guard let worker else { throw .failure(.exited(status: "not started", stderrTail: "")) }
        do {
            // The loaded length is sent as nil: the worker's inputs for it are made already.
            let length = length == loadedLength ? nil : length
            let shape = BatchShape(batch: batchSize, length: length)
            var result = try await run(worker, batchSize: batchSize, length: length, rows: rows)
            result.coldShape = seen.insert(shape).inserted
            return result
        } catch {
            guard case .failure(let failure) = error else { throw error }
            guard self.worker === worker else { throw .reply(Self.lost(failure)) }
            self.worker = nil
            restarting = Task { await self.replace(worker) }
            throw error
        }
    }

    /// `inferbench serve`: a batch of the requests' own inputs through the ring, and each
    /// request's outputs read back. A worker that dies fails the batch and restarts, as above.
    public func infer(batchSize: Int, inputs: [[[UInt8]]]) async throws(WorkerError) -> (InferResult, [[[UInt8]]]) {
        if let restarting { _ = await restarting.value }
        guard let worker else { throw .failure(.exited(status: "not started", stderrTail: "")) }
        guard let ring else { throw .reply(WorkerErrorPayload(kind: .internal, message: "\(label) has no payload ring")) }
        do throws(WorkerError) {
            guard let slot = ring.acquire() else { throw .reply(WorkerErrorPayload(kind: .internal, message: "no free payload slot")) }
            defer { ring.release(slot) }
            do throws(InferbenchError) { try ring.gather(slot: slot, inputs: inputs, batch: batchSize) } catch {
                throw .reply(WorkerErrorPayload(kind: .badRequest, message: error.description))
            }
            let call = PayloadCall(slot: slot, rows: inputs.count, checksum: false)
            var result = try await worker.infer(batchSize: batchSize, length: nil, inFlight: slots, payload: call)
            result.coldShape = seen.insert(BatchShape(batch: batchSize)).inserted
            return (result, ring.rowOutputs(slot: slot, rows: inputs.count, batch: batchSize))
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
    /// efficiency (its capacity ÷ this) compares like with like. With `lengths` (padded lengths
    /// drawn from the test's distribution) the batches run at those lengths in turn, as the
    /// requests would, not all at the loaded (longest) one.
    public func offlineRounds(batchSize: Int, rounds: Int, seconds: Double, lengths: [Int] = []) async throws(WorkerError) -> [Double] {
        guard worker != nil else { throw .failure(.exited(status: "not started", stderrTail: "")) }
        var rates: [Double] = []
        for _ in 0..<max(1, rounds) { rates.append(try await offlineRound(batchSize: batchSize, seconds: seconds, lengths: lengths)) }
        return rates
    }

    /// One round: every slot sends batches one after another until `seconds` have passed.
    private func offlineRound(batchSize: Int, seconds: Double, lengths: [Int]) async throws(WorkerError) -> Double {
        let start = Monotonic.now()
        let deadline = start + seconds
        let perSlot = await withTaskGroup(of: Result<Int, WorkerError>.self) { group in
            for slot in 0..<slots {
                group.addTask {
                    var batches = 0
                    repeat {
                        // Slot k takes draws k, k + slots, …: together the slots walk the list in order.
                        let length = lengths.isEmpty ? nil : lengths[(slot + batches * self.slots) % lengths.count]
                        do throws(WorkerError) { _ = try await self.infer(batchSize: batchSize, length: length) } catch { return .failure(error) }
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
        closeRing()
    }
}
