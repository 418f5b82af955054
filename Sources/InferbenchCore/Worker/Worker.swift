import Foundation

/// Either a worker's error reply or a failure of the worker itself.
public enum WorkerError: Error, Sendable, Equatable {
    /// The worker answered with an error and is still usable.
    case reply(WorkerErrorPayload)
    /// The worker is gone or unusable.
    case failure(WorkerFailure)
}

/// Timeouts per operation. Compilation can take minutes; a measure chunk should not.
public struct WorkerTimeouts: Sendable, Equatable {
    public var hello: Duration = .seconds(120)
    public var load: Duration = .seconds(1800)
    public var measure: Duration = .seconds(600)
    public var other: Duration = .seconds(600)

    public init() {}

    /// The same limit for every request but the start-up handshake, which keeps its own
    /// (importing PyTorch can take tens of seconds on a cold disk).
    public init(all: Duration) {
        load = all
        measure = all
        other = all
    }
}

/// Where one pipelined `infer` is: sent, its reply in before its caller waits, or awaited.
private enum PipelinedReply {
    case sent
    case arrived(Result<InferResult, WorkerError>)
    case waiting(CheckedContinuation<Result<InferResult, WorkerError>, Never>)

    var awaitsReply: Bool {
        if case .arrived = self { return false }
        return true
    }
}

/// Drives one Python worker: typed requests over a ``WorkerChannel``.
public actor Worker {
    /// Where the worker is in its life.
    public enum State: Sendable {
        case started
        case ready(HelloResult)
        case loaded(HelloResult, LoadArgs)
        case failed(WorkerFailure)
        case stopped
    }

    public private(set) var state: State = .started
    private let channel: any WorkerChannel
    private let timeouts: WorkerTimeouts
    private var nextID = 1
    /// Pipelined `infer` requests sent and not answered yet, by request id.
    private var pipelined: [Int: PipelinedReply] = [:]
    /// Reads the pipelined replies while any is awaited; nil when none is.
    private var replyReader: Task<Void, Never>?
    /// Ordinary (not pipelined) calls waiting for the channel or using it. While there are any,
    /// no pipelined call is sent: the reader drains, and the ordinary call then has the channel.
    private var ordinaryCalls = 0
    /// An ordinary call's exchange is in progress: it is the channel's one reader.
    private var exchanging = false
    /// Calls waiting for an ordinary call to end.
    private var turnWaiters: [CheckedContinuation<Void, Never>] = []
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    public init(channel: any WorkerChannel, timeouts: WorkerTimeouts = WorkerTimeouts()) {
        self.channel = channel
        self.timeouts = timeouts
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    public var processID: Int32? { get async { await channel.processID } }

    func call<Args: Encodable, Result: Decodable>(
        _ op: WorkerOp, _ args: Args, timeout: Duration, as: Result.Type
    ) async throws(WorkerError) -> Result {
        // The channel has one reader: a request waits until no other ordinary call is
        // exchanging and the pipelined replies are in (pipelined calls wait for it meanwhile).
        // Two readers would each take whichever reply came next: a reply to the wrong caller.
        ordinaryCalls += 1
        while exchanging || replyReader != nil {
            if let reader = replyReader { await reader.value } else { await waitForTurn() }
        }
        exchanging = true
        defer {
            exchanging = false
            ordinaryCalls -= 1
            wakeTurnWaiters()
        }
        if case .failed(let failure) = state { throw .failure(failure) }
        let (id, line) = try request(op, args)
        let replyLine: String
        do {
            replyLine = try await channel.exchange(line, timeout: timeout, operation: op.rawValue)
        } catch {
            state = .failed(error)
            throw .failure(error)
        }
        return try decodeReply(replyLine, to: op, id: id)
    }

    private func waitForTurn() async {
        await withCheckedContinuation { turnWaiters.append($0) }
    }

    private func wakeTurnWaiters() {
        let waiting = turnWaiters
        turnWaiters.removeAll()
        for waiter in waiting { waiter.resume() }
    }

    /// The next request id and the request's line.
    private func request<Args: Encodable>(_ op: WorkerOp, _ args: Args) throws(WorkerError) -> (Int, String) {
        let id = nextID
        nextID += 1
        do {
            return (id, String(decoding: try encoder.encode(WorkerRequest(id: id, op: op, args: args)), as: UTF8.self))
        } catch {
            throw .failure(.protocolViolation("cannot encode \(op.rawValue): \(error)"))
        }
    }

    /// The result of reply `replyLine` to request `id`; an error reply throws `.reply`, and a
    /// line that is no reply to it marks the worker failed.
    private func decodeReply<Result: Decodable>(_ replyLine: String, to op: WorkerOp, id: Int) throws(WorkerError) -> Result {
        let data = Data(replyLine.utf8)
        let reply: WorkerReply<Result>
        do {
            reply = try decoder.decode(WorkerReply<Result>.self, from: data)
        } catch {
            // An error reply still decodes when the result type does not.
            if let header = try? decoder.decode(WorkerReply<NoArgs>.self, from: data), let payload = header.error {
                throw .reply(payload)
            }
            let failure = WorkerFailure.protocolViolation(
                "unreadable reply to \(op.rawValue): \(replyLine.prefix(300)) (\(error))")
            state = .failed(failure)
            throw .failure(failure)
        }
        guard reply.id == id else {
            let got = reply.id.map(String.init) ?? "null (\(reply.error?.message ?? "no error"))"
            let failure = WorkerFailure.protocolViolation("reply id \(got) for request \(id)")
            state = .failed(failure)
            throw .failure(failure)
        }
        if let payload = reply.error { throw .reply(payload) }
        guard let result = reply.result else {
            throw .failure(.protocolViolation("reply to \(op.rawValue) has neither result nor error"))
        }
        return result
    }

    /// Handshake: checks the protocol version and returns the worker's environment.
    public func hello() async throws(WorkerError) -> HelloResult {
        let result = try await call(.hello, NoArgs(), timeout: timeouts.hello, as: HelloResult.self)
        guard result.protocol == WorkerProtocol.version else {
            let failure = WorkerFailure.protocolViolation(
                "worker speaks protocol \(result.protocol), this inferbench speaks \(WorkerProtocol.version)")
            state = .failed(failure)
            throw .failure(failure)
        }
        state = .ready(result)
        return result
    }

    public func models() async throws(WorkerError) -> [ZooEntry] {
        try await call(.models, NoArgs(), timeout: timeouts.other, as: [ZooEntry].self)
    }

    /// Checks a model name and its parameters against the worker's catalogue without building
    /// the model (milliseconds; nothing is imported). A bad name or parameter is a `.reply` with a
    /// `badRequest` payload whose message names the parameter and its valid range. A package the
    /// model needs but is missing is not an error here: `load` reports it.
    @discardableResult
    public func check(model: ModelSpec) async throws(WorkerError) -> ModelCheck {
        try await call(
            .check, CheckArgs(model: model.name, params: model.params), timeout: timeouts.other, as: ModelCheck.self)
    }

    public func load(_ args: LoadArgs) async throws(WorkerError) -> LoadResult {
        let result = try await call(.load, args, timeout: timeouts.load, as: LoadResult.self)
        if case .ready(let hello) = state { state = .loaded(hello, args) }
        if case .loaded(let hello, _) = state { state = .loaded(hello, args) }
        return result
    }

    public func measureLatency(batchSize: Int, iterations: Int) async throws(WorkerError) -> LatencyChunk {
        try await call(
            .measure, MeasureArgs(batchSize: batchSize, iterations: iterations, mode: .latency),
            timeout: timeouts.measure, as: LatencyChunk.self)
    }

    public func measureThroughput(batchSize: Int, iterations: Int) async throws(WorkerError) -> ThroughputChunk {
        try await call(
            .measure, MeasureArgs(batchSize: batchSize, iterations: iterations, mode: .throughput),
            timeout: timeouts.measure, as: ThroughputChunk.self)
    }

    public func infer(batchSize: Int, length: Int? = nil) async throws(WorkerError) -> InferResult {
        try await call(.infer, InferArgs(batchSize: batchSize, length: length), timeout: timeouts.measure, as: InferResult.self)
    }

    /// Opens the worker's payload ring: `slots` slots of up to `maxBatch` samples, and `pool`
    /// samples made by the model's input factory at each of `lengths` (none: the loaded shape).
    func payloadOpen(_ args: PayloadOpenArgs) async throws(WorkerError) -> PayloadLayout {
        try await call(.payloadOpen, args, timeout: timeouts.load, as: PayloadLayout.self)
    }

    /// One call that may run while up to `inFlight - 1` others sent this way still run: it is
    /// sent without waiting for their replies, which come back in any order and are matched by
    /// id. Call it concurrently (up to `inFlight` at once). With `inFlight` 1, ``infer(batchSize:)``.
    ///
    /// An ordinary call (any other request) waits until the pipelined calls in flight are
    /// answered, and pipelined calls wait while one is waiting or running: the channel has one
    /// reader at a time. When the worker dies, every call in flight throws the same `.failure`.
    public func infer(batchSize: Int, length: Int? = nil, inFlight: Int) async throws(WorkerError) -> InferResult {
        try await infer(InferArgs(batchSize: batchSize, length: length), inFlight: inFlight)
    }

    /// ``infer(batchSize:length:inFlight:)`` with the batch's inputs in a payload ring slot.
    func infer(batchSize: Int, length: Int?, inFlight: Int, payload: PayloadCall?) async throws(WorkerError) -> InferResult {
        try await infer(InferArgs(batchSize: batchSize, length: length, payload: payload), inFlight: inFlight)
    }

    private func infer(_ args: InferArgs, inFlight: Int) async throws(WorkerError) -> InferResult {
        guard inFlight > 1 else { return try await call(.infer, args, timeout: timeouts.measure, as: InferResult.self) }
        var args = args
        args.inFlight = inFlight
        // An ordinary call waiting or exchanging goes first (see ``call``).
        while ordinaryCalls > 0 { await waitForTurn() }
        if case .failed(let failure) = state { throw .failure(failure) }
        let (id, line) = try request(.infer, args)
        // Registered before it is sent: the reader may see the reply before this call resumes.
        pipelined[id] = .sent
        if replyReader == nil { replyReader = Task { await self.readReplies() } }
        do { try await channel.send(line) } catch { failPipelined(error) }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<InferResult, WorkerError>, Never>) in
            if case .arrived(let result) = pipelined[id] {
                pipelined[id] = nil
                continuation.resume(returning: result)
            } else {
                pipelined[id] = .waiting(continuation)
            }
        }
        return try result.get()
    }

    /// Reads replies and hands each to its pipelined call, until none is awaited.
    private func readReplies() async {
        while pipelined.values.contains(where: \.awaitsReply) {
            do {
                deliver(try await channel.receive(timeout: timeouts.measure, operation: WorkerOp.infer.rawValue))
            } catch {
                failPipelined(error)
            }
        }
        replyReader = nil
    }

    private func deliver(_ line: String) {
        struct Header: Decodable { var id: Int? }
        guard let id = (try? decoder.decode(Header.self, from: Data(line.utf8)))?.id, pipelined[id] != nil else {
            failPipelined(.protocolViolation("reply to no pipelined infer in flight: \(line.prefix(300))"))
            return
        }
        let result: Result<InferResult, WorkerError>
        do throws(WorkerError) { result = .success(try decodeReply(line, to: .infer, id: id)) } catch { result = .failure(error) }
        settle(id, with: result)
    }

    /// Marks the worker failed and ends every pipelined call in flight with the failure.
    private func failPipelined(_ failure: WorkerFailure) {
        var cause = failure
        if case .failed(let first) = state { cause = first } else { state = .failed(failure) }
        for id in pipelined.keys { settle(id, with: .failure(.failure(cause))) }
    }

    private func settle(_ id: Int, with result: Result<InferResult, WorkerError>) {
        switch pipelined[id] {
        case .waiting(let continuation):
            pipelined[id] = nil
            continuation.resume(returning: result)
        case .sent, .arrived:
            pipelined[id] = .arrived(result)
        case nil:
            break
        }
    }

    public func verify(batchSize: Int) async throws(WorkerError) -> VerifyResult {
        try await call(.verify, BatchArgs(batchSize: batchSize), timeout: timeouts.load, as: VerifyResult.self)
    }

    public func memory(resetPeak: Bool = false) async throws(WorkerError) -> MemoryResult {
        try await call(.memory, MemoryArgs(resetPeak: resetPeak), timeout: timeouts.other, as: MemoryResult.self)
    }

    public func unload() async throws(WorkerError) {
        _ = try await call(.unload, NoArgs(), timeout: timeouts.other, as: NoArgs.self)
        if case .loaded(let hello, _) = state { state = .ready(hello) }
    }

    /// Asks the worker to exit, then makes sure it did. Never throws.
    public func shutdown() async {
        if case .failed = state {
            await channel.kill()
        } else {
            _ = try? await call(.shutdown, NoArgs(), timeout: .seconds(10), as: NoArgs.self)
            await channel.close(grace: .seconds(5))
        }
        state = .stopped
    }

    /// Kills the worker at once.
    public func kill() async {
        await channel.kill()
        state = .stopped
    }
}
