import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The infer requests of `load --target` on plain SwiftNIO: keep-alive HTTP/1.1 connections to
/// one server, each carrying one request at a time, taken from an idle stack and opened as the
/// load needs them up to a limit. async-http-client (kept for the probes and for https) spent
/// about 200 µs of CPU a request here (its request state machines, a task hop per part); this
/// pool writes a request's head, body and end in one flush and completes one promise per
/// answer, so the generator stays cheaper than the servers it measures.
final class OIPConnectionPool: Sendable {
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
    /// `head` is written as given, so it carries the body's Content-Length: callers make their
    /// heads once, not per request.
    func execute(head: HTTPRequestHead, body: ByteBuffer, deadline: NIODeadline) async throws(Failure) -> Response {
        let channel = try await acquire()
        let promise = channel.eventLoop.makePromise(of: Response.self)
        // The answer, the deadline, a failed write or the connection's end complete the promise,
        // whichever comes first on the channel's event loop (NIO ignores later completions):
        // a request on a connection that closed under it can never wait forever.
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(Failure.timeout)
            channel.close(promise: nil)
        }
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail(Failure.connection("the request could not be sent: \($0)")) }
        channel.writeAndFlush(Exchange(head: head, body: body, promise: promise), promise: written)
        do {
            let response = try await promise.futureResult.get()
            timer.cancel()
            release(channel, reusable: response.keepAlive)
            return response
        } catch {
            timer.cancel()
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
                    // The requests' heads are made once from the metadata and never change:
                    // validating their headers on every write was a tenth of the generator's CPU.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
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
    var head: HTTPRequestHead
    var body: ByteBuffer
    var promise: EventLoopPromise<OIPConnectionPool.Response>
}

/// Writes an exchange's head, body and end, then gathers the answer's parts into one response.
private final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<OIPConnectionPool.Response>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        pending = exchange.promise
        (head, body) = (nil, nil)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
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
