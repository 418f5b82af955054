import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// `inferbench serve`'s HTTP side: the Open Inference Protocol's REST endpoints (KServe v2),
/// the statistics extension, and `/metrics`, in front of a ``DynamicBatcher`` and its workers.
/// Bad requests are answered 4xx with the protocol's error body and never reach a worker.
struct OIPServer: Sendable {
    let name: String
    let state: ServeState
    let metrics: ServeMetrics
    let maxBodyBytes: Int
    let requestTimeout: Double
    let sampler: TelemetrySampler?

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v2/health/live") { _, _ in Self.json(200, ["live": true]) }
        router.get("/v2/health/ready") { _, _ in
            state.serving == nil ? Self.error(503, "not ready: the workers are loading, compiling and warming") : Self.json(200, ["ready": true])
        }
        router.get("/v2") { _, _ in
            Self.json(200, ["name": "inferbench", "version": InferbenchInfo.version, "extensions": ["binary_tensor_data", "statistics"]])
        }
        router.post("/v2/repository/index") { _, _ in
            Self.json(200, [["name": name, "version": "1", "state": state.serving == nil ? "LOADING" : "READY"]])
        }
        router.get("/v2/models/:model") { _, context in try model(context) { Self.metadata($0.model) } }
        router.get("/v2/models/:model/ready") { _, context in try model(context) { _ in Self.json(200, ["name": name, "ready": true]) } }
        router.get("/v2/models/:model/stats") { _, context in try model(context) { _ in Self.json(200, state.statistics(model: name)) } }
        router.post("/v2/models/:model/infer") { request, context in
            var request = request
            return await infer(&request, context)
        }
        router.get("/metrics") { _, _ in await scrape() }
        return router
    }

    /// The served model's route: 404 for another name, 503 before the workers are warm.
    func model(_ context: BasicRequestContext, _ answer: (Serving) -> Response) throws -> Response {
        let asked = context.parameters.get("model") ?? ""
        guard asked == name else { return Self.error(404, "model \(asked) is not served here; this server serves \(name)") }
        guard let serving = state.serving else { return Self.error(503, "\(name) is not ready: the workers are loading, compiling and warming") }
        return answer(serving)
    }

    func infer(_ request: inout Request, _ context: BasicRequestContext) async -> Response {
        let arrived = Monotonic.now()
        let asked = context.parameters.get("model") ?? ""
        guard asked == name else {
            metrics.badRequest()
            return Self.error(404, "model \(asked) is not served here; this server serves \(name)")
        }
        guard let serving = state.serving else { return Self.error(503, "\(name) is not ready: the workers are loading, compiling and warming") }
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: maxBodyBytes) } catch {
            metrics.badRequest()
            return Self.error(413, "the body is over \(maxBodyBytes) bytes (--max-body-mb)")
        }
        let headerLength = HTTPField.Name(oipHeaderLengthField).flatMap { request.headers[$0] }.flatMap { Int($0) }
        let decoded: OIPInferCodec.Decoded
        do throws(OIPInferCodec.Refusal) { decoded = try OIPInferCodec.decode(Array(buffer: body), headerLength: headerLength, model: serving.model) } catch {
            metrics.badRequest()
            return Self.error(error.status, error.message)
        }
        let outcome = await Self.submit(decoded.inputs, to: serving.batcher, arrived: arrived, timeout: requestTimeout)
        let answered = Monotonic.now()
        state.record(outcome, arrived: arrived, answered: answered)
        metrics.record(outcome, arrived: arrived, answered: answered)
        switch (outcome.status, outcome.failure) {
        case (.ok, _):
            let (bytes, jsonLength) = OIPInferCodec.response(
                model: serving.model, id: decoded.id, outputs: outcome.outputs ?? [], asked: decoded.outputs, binary: decoded.binaryOutputs)
            var headers: HTTPFields = [.contentType: jsonLength == nil ? "application/json" : "application/octet-stream"]
            if let jsonLength, let field = HTTPField.Name(oipHeaderLengthField) { headers[field] = String(jsonLength) }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case (.rejected, _):
            var response = Self.error(503, "the queue is full (--max-queue); retry later")
            response.headers[.retryAfter] = "1"
            return response
        case (.failed, .timeout?):
            return Self.error(504, "no answer within \(Format.trimmed(requestTimeout)) s (--request-timeout)")
        case (.failed, _):
            return Self.error(500, "the worker failed with this request's batch in flight; it restarts")
        }
    }

    /// Submits one request and waits at most `timeout` for it: a request that runs over is
    /// answered as a timeout while its batch, already at a worker, finishes there.
    static func submit(_ input: [[UInt8]], to batcher: DynamicBatcher, arrived: Double, timeout: Double) async -> RequestOutcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<RequestOutcome, Never>) in
            let once = Once(continuation)
            let timer = Task {
                try? await Task.sleep(for: .nanoseconds(Int64(timeout * 1e9)))
                guard !Task.isCancelled else { return }
                once.resume(
                    RequestOutcome(status: .failed, failure: .timeout, scheduled: arrived, completed: Monotonic.now(), batchSize: 0, paddedBatchSize: 0))
            }
            Task {
                let outcome = await batcher.submit(scheduled: arrived, length: nil, input: input)
                timer.cancel()
                once.resume(outcome)
            }
        }
    }

    func scrape() async -> Response {
        if let serving = state.serving { metrics.queueDepth.set(to: Double(await serving.batcher.queueDepth)) }
        metrics.ready.set(to: state.serving == nil ? 0.0 : 1.0)
        if let sampler, let last = sampler.snapshot().gpu.last?.smUtil { metrics.gpuUtilization?.set(to: last / 100) }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }

    static func metadata(_ model: OIPModelMetadata) -> Response {
        func tensor(_ t: OIPTensorMetadata) -> [String: Any] { ["name": t.name, "datatype": t.datatype.rawValue, "shape": t.shape] }
        return json(
            200,
            [
                "name": model.name, "versions": ["1"], "platform": model.platform ?? "pytorch", "inputs": model.inputs.map(tensor),
                "outputs": model.outputs.map(tensor),
            ])
    }

    static func json(_ status: Int, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The protocol's error body, `{"error": "..."}`.
    static func error(_ status: Int, _ message: String) -> Response { json(status, ["error": message]) }
}

/// A continuation resumed by whichever comes first, the answer or the timeout.
private final class Once: Sendable {
    private let continuation: Mutex<CheckedContinuation<RequestOutcome, Never>?>
    init(_ c: CheckedContinuation<RequestOutcome, Never>) { continuation = Mutex(c) }
    func resume(_ outcome: RequestOutcome) {
        let c = continuation.withLock { c -> CheckedContinuation<RequestOutcome, Never>? in
            defer { c = nil }
            return c
        }
        c?.resume(returning: outcome)
    }
}
