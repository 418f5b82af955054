import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// One `inferbench serve`: the HTTP server comes up at once (live, not ready), the workers
/// load, compile and warm every batch bucket, and the server turns ready. SIGTERM or SIGINT
/// stops it gracefully: no new connection is taken, requests in flight are answered, then the
/// batcher and the workers stop.
public struct ServeSession: Sendable {
    /// The replicas, batching and payload ring (`--payload host`) of the served model; its
    /// scenario is not run.
    public var test: LoadTest
    /// The model's name in the protocol's paths (`/v2/models/NAME/infer`).
    public var name: String
    public var host = "127.0.0.1"
    public var port = 8000
    public var maxBodyBytes = 64 << 20
    public var requestTimeout = 30.0
    public var sampler: TelemetrySampler?
    public var announce: @Sendable (String) -> Void

    public init(test: LoadTest, name: String, announce: @escaping @Sendable (String) -> Void) {
        (self.test, self.name, self.announce) = (test, name, announce)
    }

    public func run() async throws(InferbenchError) {
        let state = ServeState()
        let failure = FailureBox()
        let server = OIPServer(
            name: name, state: state, metrics: ServeMetrics(model: name, gpu: sampler != nil), maxBodyBytes: maxBodyBytes, requestTimeout: requestTimeout,
            sampler: sampler)
        let workers = WorkersService(session: self, state: state, failure: failure)
        var logger = Logger(label: "inferbench.serve")
        logger.logLevel = .warning
        let (host, port, announce) = (self.host, self.port, self.announce)
        let app = Application(
            router: server.router(), configuration: .init(address: .hostname(host, port: port), serverName: "inferbench"), services: [workers],
            onServerRunning: { channel in announce("listening on http://\(host):\(channel.localAddress?.port ?? port) (live; ready once the workers are warm)")
            },
            logger: logger)
        sampler?.start()
        defer { sampler?.stop() }
        do { try await app.runService() } catch {
            if let failed = failure.error { throw failed }
            if "\(error)".contains("Address already in use") || "\(error)".contains("EADDRINUSE") {
                throw .badInput("--port \(port): \(host):\(port) is in use; give another --port (0 picks a free one)")
            }
            throw .environment("serve: \(error)")
        }
        if let failed = failure.error { throw failed }
    }

    /// The model as the protocol describes it, from the first worker's payload ring: each
    /// input and output of one sample, behind a batch dimension of any size.
    static func metadata(name: String, layout: PayloadLayout) throws(InferbenchError) -> OIPModelMetadata {
        func tensors(_ items: [PayloadLayout.Input], prefix: String) throws(InferbenchError) -> [OIPTensorMetadata] {
            var out: [OIPTensorMetadata] = []
            for (i, item) in items.enumerated() {
                guard let type = OIPDatatype(torchName: item.dtype) else {
                    throw .badInput("serve: \(name)'s \(prefix)\(i) is \(item.dtype), which the protocol has no datatype for")
                }
                out.append(OIPTensorMetadata(name: item.name ?? "\(prefix)\(i)", datatype: type, shape: [-1] + item.shape))
            }
            return out
        }
        guard let outputs = layout.outputs else { throw .worker("serve: the worker did not describe the model's outputs (an older worker?)") }
        return OIPModelMetadata(
            name: name, versions: ["1"], platform: "pytorch", inputs: try tensors(layout.inputs, prefix: "input"),
            outputs: try tensors(outputs, prefix: "output"))
    }
}

/// Starts the workers beside the HTTP server, makes the server ready, and on graceful shutdown
/// (after the HTTP server has answered what was in flight: services stop in reverse order)
/// stops the batcher and the workers.
struct WorkersService: Service {
    let session: ServeSession
    let state: ServeState
    let failure: FailureBox

    func run() async throws {
        let test = session.test
        let replicas: [WorkerReplica]
        do {
            replicas = try await cancelWhenGracefulShutdown { () async throws(InferbenchError) -> [WorkerReplica] in try await test.startedReplicas() }
        } catch let error as InferbenchError {
            failure.error = error
            throw error
        }
        let batcher: DynamicBatcher
        do {
            guard let layout = await replicas.first?.payloadLayout else { throw InferbenchError.worker("serve: the workers opened no payload ring") }
            let model = try ServeSession.metadata(name: session.name, layout: layout)
            batcher = DynamicBatcher(
                workers: replicas, maxBatch: test.maxBatch, maxDelay: test.maxDelay, maxQueue: test.maxQueue, buckets: test.buckets, seed: UInt64(test.seed))
            state.serve(Serving(model: model, batcher: batcher))
            session.announce(
                "ready: \(session.name) on \(replicas.count) worker(s), inputs \(model.inputs.map { "\($0.name) \($0.datatype.rawValue) \($0.shape)" }.joined(separator: ", "))"
            )
        } catch {
            for r in replicas { await r.shutdown() }
            failure.error = error as? InferbenchError ?? .internal("\(error)")
            throw error
        }
        try? await gracefulShutdown()
        session.announce("stopping: requests in flight were answered; stopping the workers")
        await batcher.shutdown()
        for r in replicas { await r.shutdown() }
    }
}

/// Why the workers could not serve, for the session to throw once the server has stopped.
final class FailureBox: Sendable {
    private let box = Mutex<InferbenchError?>(nil)
    var error: InferbenchError? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}
