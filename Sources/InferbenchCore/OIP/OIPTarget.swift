import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// `load --target`: an inference server that speaks the Open Inference Protocol over HTTP
/// (KServe v2 REST: Triton, KServe, MLServer, TorchServe's v2 endpoint, `inferbench serve`),
/// as the place a load test's requests go. One keep-alive connection pool sized to the load;
/// every request has a deadline, and every answer that is not a well-formed inference response
/// of the model's outputs counts as an error of its kind.
public final class OIPTarget: RequestSink {
    public struct Settings: Sendable {
        /// `http://HOST:PORT` (a path prefix is kept; no trailing slash needed).
        public var url: String
        /// nil: the one model the server serves.
        public var modelName: String?
        public var encoding: OIPEncoding = .json
        /// Seconds a request may take before it counts as a timeout.
        public var timeout: Double = 30
        /// Most connections open at once: requests beyond them wait for one (inside their latency).
        public var connections: Int = 256
        public var seed: UInt64 = 0
        /// Distinct request bodies made before the test; requests take them in turn.
        public var samples: Int = 16
        /// `--payload-file`: a .npy/.npz whose samples the requests carry in turn (nil: seeded
        /// samples made from the model's metadata).
        public var payloadFile: String?
        /// Longest wait for the server (and the model) to turn ready.
        public var readyWait: Double = 60

        public init(url: String, modelName: String? = nil) { (self.url, self.modelName) = (url, modelName) }
    }

    public let settings: Settings
    public let base: String
    public let metadata: OIPModelMetadata
    public let server: OIPServerMetadata?
    let client: HTTPClient
    private let inferURL: String
    /// The infer requests' connections on plain SwiftNIO (http); nil for https, whose requests
    /// go through async-http-client like the probes.
    private let pool: OIPConnectionPool?
    /// Each sample's request, made once: its body, its own headers (with binary tensors the
    /// JSON header's length differs from body to body, as their ids differ in length), and the
    /// whole head the pool writes.
    private let requests: [Prepared]

    private struct Prepared {
        var body: ByteBuffer
        var headers: HTTPHeaders
        var wire: OIPConnectionPool.Request
    }
    private let state = Mutex(State())
    /// Requests sent so far (which sample the next takes) and those not yet answered: counters
    /// every request moves, kept apart from the lock.
    private let sent = Atomic(0)
    private let inFlight = Atomic(0)

    private struct State {
        /// The first message of each kind of failure, for the report.
        var problems: [RequestFailure: String] = [:]
    }

    private init(
        settings: Settings, base: String, metadata: OIPModelMetadata, server: OIPServerMetadata?, client: HTTPClient,
        bodies: [(body: ByteBuffer, headers: HTTPHeaders)]
    ) {
        self.settings = settings
        self.base = base
        self.metadata = metadata
        self.server = server
        self.client = client
        inferURL = "\(base)/v2/models/\(Self.escape(metadata.name))/infer"
        let url = URL(string: inferURL)
        if url?.scheme == "http", let host = url?.host {
            pool = OIPConnectionPool(host: host, port: url?.port ?? 80, limit: settings.connections)
        } else {
            pool = nil
        }
        let port = url?.port.map { ":\($0)" } ?? ""
        var common = HTTPRequestHead(version: .http1_1, method: .POST, uri: url.map { $0.path(percentEncoded: true) } ?? "/")
        common.headers.add(name: "Host", value: "\(url?.host ?? "localhost")\(port)")
        common.headers.add(name: "User-Agent", value: "inferbench/\(InferbenchInfo.version)")
        requests = bodies.map { body, headers in
            var head = common
            head.headers.add(contentsOf: headers)
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
            return Prepared(body: body, headers: headers, wire: OIPConnectionPool.Request(head: head, body: body))
        }
    }

    /// Connects, waits for the server and the model to be ready, reads the model's metadata and
    /// sends one request, checked in full: an unreachable target is an environment error (exit
    /// 4); one that is not OIP, serves no such model or refuses what its metadata asks for is bad
    /// input (exit 64).
    public static func connect(_ settings: Settings) async throws(InferbenchError) -> OIPTarget {
        let base = try normalize(settings.url)
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(60))
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = settings.connections
        config.timeout = .init(connect: .seconds(5), read: .seconds(Int64(max(1, settings.timeout.rounded(.up)))))
        config.httpVersion = .http1Only
        config.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        do throws(InferbenchError) {
            let probe = OIPProbe(client: client, base: base, flag: "--target \(settings.url)")
            try await probe.waitReady(path: "/v2/health/ready", within: settings.readyWait)
            let server = await probe.serverMetadata()
            var name = settings.modelName ?? ""
            if settings.modelName == nil { name = try await probe.onlyModel() }
            let metadata = try await probe.modelMetadata(name)
            try await probe.waitReady(path: "/v2/models/\(escape(name))/ready", within: settings.readyWait)
            let tensors: [[OIPTensor]]
            if let path = settings.payloadFile {
                tensors = try NumpyFile.samples(NumpyFile.read(path: path), for: metadata, path: path)
            } else {
                tensors = try OIPRequestBody.synthetic(metadata, count: settings.samples, seed: settings.seed)
            }
            let outputs = metadata.outputs.map(\.name)
            var bodies: [(body: ByteBuffer, headers: HTTPHeaders)] = []
            // Each body carries an id, as clients do (some servers fail a request without one).
            for (i, sample) in tensors.enumerated() {
                let (body, extra) = OIPRequestBody.encode(sample, outputs: outputs, encoding: settings.encoding, id: "inferbench-\(i)")
                bodies.append((ByteBuffer(bytes: body), HTTPHeaders(extra)))
            }
            let target = OIPTarget(settings: settings, base: base, metadata: metadata, server: server, client: client, bodies: bodies)
            try await target.checkFirst()
            return target
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// One request before the test, so that a server that refuses what its own metadata asks
    /// for is said once, up front, rather than as every request of the test failing.
    private func checkFirst() async throws(InferbenchError) {
        let outcome = await submit(scheduled: Monotonic.now(), length: nil)
        guard outcome.status != .ok else { return }
        let why = problems[outcome.failure ?? .connection] ?? "\(outcome.failure?.rawValue ?? "failed")"
        throw .badInput("--target \(settings.url): a first request to \(metadata.name), made from its metadata, failed: \(why)")
    }

    public func submit(scheduled: Double, length: Int?) async -> RequestOutcome {
        let index = sent.add(1, ordering: .relaxed).newValue % requests.count
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        var outcome = RequestOutcome(status: .ok, scheduled: scheduled, completed: 0, batchSize: 0, paddedBatchSize: 0)
        outcome.dispatched = Monotonic.now()
        let answer = await exchange(requests[index])
        outcome.completed = Monotonic.now()
        switch answer {
        case .success(let (status, headers, body)):
            if let (failure, why) = judge(status, headers: headers, body: body) {
                outcome.status = failure == .overloaded ? .rejected : .failed
                fail(&outcome, failure, why)
            }
        case .failure(let failed):
            outcome.status = .failed
            fail(&outcome, failed.kind, failed.why)
        }
        return outcome
    }

    /// One request, on the NIO pool or through async-http-client: the answer, or why none came.
    private func exchange(_ request: Prepared) async -> Result<(HTTPResponseStatus, HTTPHeaders, ByteBuffer), Failed> {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(settings.timeout * 1e9))
        if let pool {
            do throws(OIPConnectionPool.Failure) {
                let response = try await pool.execute(request.wire, deadline: deadline)
                return .success((response.status, response.headers, response.body))
            } catch {
                switch error {
                case .timeout: return .failure(Failed(.timeout, "no answer within \(settings.timeout) s"))
                case .connection(let why): return .failure(Failed(.connection, why))
                }
            }
        }
        var http = HTTPClientRequest(url: inferURL)
        http.method = .POST
        http.headers = request.headers
        http.body = .bytes(request.body)
        do {
            let response = try await client.execute(http, deadline: deadline)
            return .success((response.status, response.headers, try await response.body.collect(upTo: 256 << 20)))
        } catch {
            return .failure(Failed(Self.classify(error), "\(error)"))
        }
    }

    struct Failed: Error {
        var kind: RequestFailure
        var why: String
        init(_ kind: RequestFailure, _ why: String) { (self.kind, self.why) = (kind, why) }
    }

    private func fail(_ outcome: inout RequestOutcome, _ failure: RequestFailure, _ why: String) {
        outcome.failure = failure
        state.withLock { s in if s.problems[failure] == nil { s.problems[failure] = why } }
    }

    /// nil for a well-formed inference response; else why not, as a kind and words.
    func judge(_ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) -> (RequestFailure, String)? {
        let text = { String(buffer: body).prefix(300) }
        switch status.code {
        case 200: break
        case 429, 503: return (.overloaded, "HTTP \(status.code): \(text())")
        case 400..<500: return (.clientError, "HTTP \(status.code): \(text())")
        default: return (.serverError, "HTTP \(status.code): \(text())")
        }
        let headerLength = headers.first(name: oipHeaderLengthField).flatMap(Int.init)
        do {
            try OIPResponseCheck(expected: metadata.outputs).check(Array(buffer: body), jsonLength: headerLength)
            return nil
        } catch { return (.badResponse, error.message) }
    }

    static func classify(_ error: any Error) -> RequestFailure {
        if let e = error as? HTTPClientError, [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(e) { return .timeout }
        return .connection
    }

    public var pending: Int { inFlight.load(ordering: .relaxed) }

    /// The first message of each kind of failure seen, for the report.
    public var problems: [RequestFailure: String] { state.withLock { $0.problems } }

    /// `GET /v2/models/NAME/stats` (Triton's statistics extension, also `inferbench serve`'s):
    /// the server's own cumulative timing; nil where the server has none.
    public func serverStatistics() async -> ServerStatistics? {
        let probe = OIPProbe(client: client, base: base, flag: "--target \(settings.url)")
        return await probe.statistics(metadata.name)
    }

    /// Closes the connections; the target is no use after.
    public func shutdown() async {
        await pool?.shutdown()
        try? await client.shutdown()
    }

    static func normalize(_ url: String) throws(InferbenchError) -> String {
        var u = url.trimmingCharacters(in: .whitespaces)
        while u.hasSuffix("/") { u.removeLast() }
        guard let parsed = URL(string: u), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw .badInput("--target \(url): give the server's address as http://HOST:PORT, e.g. http://127.0.0.1:8000")
        }
        return u
    }

    static func escape(_ name: String) -> String { name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name }
}

/// The server's own cumulative timing of a model (Triton's statistics extension), so that a
/// step's server-side time per request is the difference of two readings.
public struct ServerStatistics: Sendable, Equatable {
    public var success: Int
    public var successNS: Double
    public var queueNS: Double
    public var computeNS: Double

    public init(success: Int, successNS: Double, queueNS: Double, computeNS: Double) {
        (self.success, self.successNS, self.queueNS, self.computeNS) = (success, successNS, queueNS, computeNS)
    }

    /// Milliseconds per request between `earlier` and this reading: total, queue, compute; nil
    /// when no request succeeded in between.
    public func perRequestMS(since earlier: ServerStatistics) -> (total: Double, queue: Double, compute: Double)? {
        let n = Double(success - earlier.success)
        guard n > 0 else { return nil }
        return ((successNS - earlier.successNS) / n / 1e6, (queueNS - earlier.queueNS) / n / 1e6, (computeNS - earlier.computeNS) / n / 1e6)
    }
}
