import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import InferbenchCore

/// The pool `load --target` sends its requests through, against a server on loopback that
/// answers, closes, drops or hangs by the request's path: connections stay within the limit
/// and are reused, and every request ends as an answer or a failure of its kind, never a hang.
@Suite(.timeLimit(.minutes(1))) struct OIPConnectionPoolTests {
    /// A NIO HTTP server on 127.0.0.1: `/ok` answers 200 (keep-alive), `/close` answers 200
    /// with `Connection: close` and closes, `/drop` closes without answering, `/hang` never
    /// answers. It counts the connections it accepted.
    final class Server: Sendable {
        let channel: any Channel
        let accepted = NIOLockedValueBox(0)

        init() async throws {
            let accepted = accepted
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    accepted.withLockedValue { $0 += 1 }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(Handler())
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        var port: Int { channel.localAddress?.port ?? 0 }
        func stop() async { try? await channel.close() }

        final class Handler: ChannelInboundHandler {
            typealias InboundIn = HTTPServerRequestPart
            typealias OutboundOut = HTTPServerResponsePart
            var uri = ""

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                switch unwrapInboundIn(data) {
                case .head(let head): uri = head.uri
                case .body: break
                case .end:
                    switch uri {
                    case "/drop": context.close(promise: nil)
                    case "/hang": break
                    default:
                        var headers = HTTPHeaders([("Content-Length", "2")])
                        if uri == "/close" { headers.add(name: "Connection", value: "close") }
                        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
                        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
                        if uri == "/close" { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
                    }
                }
            }
        }
    }

    static func head(_ path: String, port: Int) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: ["Host": "127.0.0.1:\(port)", "Content-Length": "2"])
    }

    static func send(_ pool: OIPConnectionPool, _ path: String, port: Int, within seconds: Double = 60) async -> Result<String, OIPConnectionPool.Failure> {
        do throws(OIPConnectionPool.Failure) {
            let response = try await pool.execute(
                .init(head: head(path, port: port), body: ByteBuffer(string: "{}")), deadline: .now() + .milliseconds(Int64(seconds * 1000)))
            return .success("\(response.status.code) \(String(buffer: response.body))")
        } catch { return .failure(error) }
    }

    @Test func manyRequestsShareTheLimitedConnections() async throws {
        let server = try await Server()
        let pool = OIPConnectionPool(host: "127.0.0.1", port: server.port, limit: 4)
        let answers = await withTaskGroup(of: Result<String, OIPConnectionPool.Failure>.self) { group in
            for _ in 0..<200 { group.addTask { await Self.send(pool, "/ok", port: server.port) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 200)
        #expect(answers.allSatisfy { (try? $0.get()) == "200 ok" })
        #expect(server.accepted.withLockedValue { $0 } <= 4)
        await pool.shutdown()
        await server.stop()
    }

    @Test func closedDroppedAndHungRequestsEndAndThePoolGoesOn() async throws {
        let server = try await Server()
        let pool = OIPConnectionPool(host: "127.0.0.1", port: server.port, limit: 2)
        #expect((try? await Self.send(pool, "/close", port: server.port).get()) == "200 ok")
        #expect((try? await Self.send(pool, "/ok", port: server.port).get()) == "200 ok")
        guard case .failure(.connection) = await Self.send(pool, "/drop", port: server.port) else {
            Issue.record("a dropped connection should fail as a connection error")
            return
        }
        let started = ContinuousClock.now
        guard case .failure(.timeout) = await Self.send(pool, "/hang", port: server.port, within: 0.3) else {
            Issue.record("a request without an answer should time out")
            return
        }
        // Its deadline, not a hang (loose: other suites share this machine's threads).
        #expect(ContinuousClock.now - started < .seconds(20))
        // Both places are free again: two more at once are answered.
        async let a = Self.send(pool, "/ok", port: server.port)
        async let b = Self.send(pool, "/ok", port: server.port)
        let (first, second) = await (a, b)
        #expect((try? first.get()) == "200 ok" && (try? second.get()) == "200 ok")
        await pool.shutdown()
        await server.stop()
    }

    @Test func aRequestIsEncodedOnceAsHTTP11() {
        var head = Self.head("/v2/models/m/infer", port: 8000)
        head.headers.add(name: "Inference-Header-Content-Length", value: "7")
        let request = OIPConnectionPool.Request(head: head, body: ByteBuffer(string: "{}"))
        #expect(
            String(buffer: request.wire)
                == "POST /v2/models/m/infer HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Length: 2\r\nInference-Header-Content-Length: 7\r\n\r\n{}")
    }

    @Test func aShortDeadlineOnAConnectionThatHadALongOneStillHolds() async throws {
        // One connection: the first request's 60 s deadline armed its timer; the next one's
        // 0.3 s must not wait for it.
        let server = try await Server()
        let pool = OIPConnectionPool(host: "127.0.0.1", port: server.port, limit: 1)
        #expect((try? await Self.send(pool, "/ok", port: server.port, within: 60).get()) == "200 ok")
        let started = ContinuousClock.now
        guard case .failure(.timeout) = await Self.send(pool, "/hang", port: server.port, within: 0.3) else {
            Issue.record("a request without an answer should time out")
            return
        }
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect((try? await Self.send(pool, "/ok", port: server.port).get()) == "200 ok")
        await pool.shutdown()
        await server.stop()
    }

    @Test func anUnreachableServerFailsAsAConnectionError() async throws {
        let server = try await Server()
        let port = server.port
        await server.stop()
        let pool = OIPConnectionPool(host: "127.0.0.1", port: port, limit: 2)
        guard case .failure(.connection) = await Self.send(pool, "/ok", port: port) else {
            Issue.record("nothing listens: a connection error")
            return
        }
        // The failed connect gave its place back: the pool is not stuck at its limit.
        guard case .failure(.connection) = await Self.send(pool, "/ok", port: port) else { return }
        guard case .failure(.connection) = await Self.send(pool, "/ok", port: port) else { return }
        await pool.shutdown()
    }
}
