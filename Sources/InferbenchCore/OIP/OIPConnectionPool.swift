import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The infer requests of `load --target` on plain SwiftNIO: keep-alive HTTP/1.1 connections to
/// one server, each carrying one request at a time, taken from an idle stack and opened as the
/// load needs them up to a limit. async-http-client (kept for the probes and for https) spent
/// about 200 µs of CPU a request here (its request state machines, a task hop per part); this
/// pool writes each request as the bytes it was encoded to once (``Request``), in one write and
/// flush, and completes one promise per answer, so the generator stays cheaper than the servers
/// it measures.
final class OIPConnectionPool: Sendable {
    /// One request, encoded once: a load test sends the same few bodies over and over, and
    /// encoding their heads per request was a fourteenth of the generator's CPU.
    struct Request: Sendable {
        /// What the response decoder is told of the request (it reads a HEAD's answer apart).
        var head: HTTPRequestHead
        /// The request line, headers and body as they go on the wire.
        var wire: ByteBuffer

        /// `head` must carry the body's Content-Length (or the body be empty).
        init(head: HTTPRequestHead, body: ByteBuffer) {
            self.head = head
            var text = "\(head.method.rawValue) \(head.uri) \(head.version)\r\n"
            for (name, value) in head.headers { text += "\(name): \(value)\r\n" }
            text += "\r\n"
            var wire = ByteBuffer(string: text)
            var rest = body
            wire.writeBuffer(&rest)
            self.wire = wire
        }
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
        /// The server keeps the connection open after this answer.
        var keepAlive: Bool
    }

    enum Failure: Error {
        case timeout
        case connection(String)
    }

    private let group: any EventLoopGroup
    private let host: String
    private let port: Int
    private let limit: Int
    private let connectTimeout: TimeAmount

    private struct State {
        var idle: [any Channel] = []
        /// Connections open or being opened (idle and busy).
        var open = 0
        /// Requests waiting for a connection: resumed with one, or with nil to open their own.
        var waiters: [CheckedContinuation<(any Channel)?, Never>] = []
        var closed = false
    }

    private let state = Mutex(State())

    init(host: String, port: Int, limit: Int, connectTimeout: TimeAmount = .seconds(5), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        (self.host, self.port, self.limit, self.connectTimeout, self.group) = (host, port, max(1, limit), connectTimeout, group)
    }

    /// Sends one request and returns its whole answer, or fails by `deadline` (the connection it
    /// was on is then closed: an answer arriving late must not be read as the next request's).
    func execute(_ request: Request, deadline: NIODeadline) async throws(Failure) -> Response {
        let channel = try await acquire()
        let promise = channel.eventLoop.makePromise(of: Response.self)
        // The answer, the deadline (the connection's handler keeps the time), a failed write or
        // the connection's end complete the promise, whichever comes first on the channel's
        // event loop (NIO ignores later completions): a request on a connection that closed
        // under it can never wait forever.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail(Failure.connection("the request could not be sent: \($0)")) }
        channel.writeAndFlush(Exchange(request: request, deadline: deadline, promise: promise), promise: written)
        do {
            let response = try await promise.futureResult.get()
            release(channel, reusable: response.keepAlive)
            return response
        } catch {
            release(channel, reusable: false)
            throw error as? Failure ?? .connection("\(error)")
        }
    }

    /// An idle live connection, a new one while under the limit, or the next one released.
    private func acquire() async throws(Failure) -> any Channel {
        enum Next {
            case use(any Channel)
            case connect
            case wait
        }
        while true {
            let next = state.withLock { s -> Next in
                while let channel = s.idle.popLast() {
                    if channel.isActive { return .use(channel) }
                    s.open -= 1
                }
                if s.open < limit {
                    s.open += 1
                    return .connect
                }
                return .wait
            }
            switch next {
            case .use(let channel): return channel
            case .connect: return try await connect()
            case .wait:
                let handed = await withCheckedContinuation { continuation in
                    state.withLock { $0.waiters.append(continuation) }
                }
                guard let channel = handed else { return try await connect() }
                if channel.isActive { return channel }
                release(channel, reusable: false)
            }
        }
    }

    /// Opens one connection, counted in `open` by the caller; a failure gives the place back.
    private func connect() async throws(Failure) -> any Channel {
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The requests go out as their encoded bytes (WireWriter); the decoder of the
                    // answers sits after it and sees each request's head go by.
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(WireWriter())
                    try sync.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(ExchangeHandler())
                }
            }
        do {
            return try await bootstrap.connect(host: host, port: port).get()
        } catch {
            placeFreed()
            throw .connection("connect to \(host):\(port): \(error)")
        }
    }

    /// Back to the idle stack or to a waiter; a connection that cannot be reused is closed and
    /// its place given to a waiter, who opens its own.
    private func release(_ channel: any Channel, reusable: Bool) {
        guard reusable && channel.isActive else {
            channel.close(promise: nil)
            placeFreed()
            return
        }
        // After shutdown a connection coming back from its request is closed, not kept idle.
        let (kept, waiter) = state.withLock { s -> (Bool, CheckedContinuation<(any Channel)?, Never>?) in
            if s.closed { return (false, nil) }
            if s.waiters.isEmpty {
                s.idle.append(channel)
                return (true, nil)
            }
            return (true, s.waiters.removeFirst())
        }
        guard kept else {
            channel.close(promise: nil)
            return placeFreed()
        }
        waiter?.resume(returning: channel)
    }

    private func placeFreed() {
        let waiter = state.withLock { s -> CheckedContinuation<(any Channel)?, Never>? in
            if s.waiters.isEmpty {
                s.open -= 1
                return nil
            }
            return s.waiters.removeFirst()  // its place: the waiter opens a connection
        }
        waiter?.resume(returning: nil)
    }

    /// Closes the idle connections; busy ones close as their requests end or time out.
    func shutdown() async {
        let idle = state.withLock { s -> [any Channel] in
            s.closed = true
            defer { s.idle = [] }
            return s.idle
        }
        for channel in idle { try? await channel.close() }
    }
}

/// One request on its way out, with the promise its answer completes.
private struct Exchange: Sendable {
    var request: OIPConnectionPool.Request
    var deadline: NIODeadline
    var promise: EventLoopPromise<OIPConnectionPool.Response>
}

/// Next to the socket: a request's encoded bytes go on as they are; its head, which came by only
/// so that the response decoder saw it, goes no further.
private final class WireWriter: ChannelOutboundHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(.byteBuffer(let wire)): context.write(wrapOutboundOut(wire), promise: promise)
        case .head, .body, .end: promise?.succeed()
        }
    }
}

/// Writes an exchange's encoded request, then gathers the answer's parts into one response;
/// an answer not complete by the exchange's deadline fails it and closes the connection (an
/// answer arriving late must not be read as the next request's).
///
/// The deadline is kept by one timer per connection, armed lazily: at the first request (or one
/// due before the timer), and when it fires, again for the request then pending. Every request
/// of a test has the same timeout, so a connection's timer fires about once per timeout rather
/// than being scheduled and cancelled per request, which was a twentieth of the generator's CPU
/// (the event loop's timer heap).
private final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<OIPConnectionPool.Response>?
    private var deadline = NIODeadline.distantFuture
    private var timer: (at: NIODeadline, task: Scheduled<Void>)?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        pending = exchange.promise
        deadline = exchange.deadline
        (head, body) = (nil, nil)
        if timer.map({ $0.at > deadline }) ?? true {
            timer?.task.cancel()
            arm(context, at: deadline)
        }
        context.write(wrapOutboundOut(.head(exchange.request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(exchange.request.wire))), promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, at when: NIODeadline) {
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
            timer = nil
            guard let promise = pending else { return }  // idle: armed again by the next request
            guard deadline <= .now() else { return arm(context, at: deadline) }
            pending = nil
            promise.fail(OIPConnectionPool.Failure.timeout)
            context.close(promise: nil)
        }
        timer = (when, task)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            guard let promise = pending, let head else { return }
            pending = nil
            promise.succeed(.init(status: head.status, headers: head.headers, body: body ?? ByteBuffer(), keepAlive: head.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        pending?.fail(OIPConnectionPool.Failure.connection("the server closed the connection before answering"))
        pending = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending?.fail(OIPConnectionPool.Failure.connection("\(error)"))
        pending = nil
        context.close(promise: nil)
    }
}
