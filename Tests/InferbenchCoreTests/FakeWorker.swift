import Foundation

@testable import InferbenchCore

/// A worker channel that answers from a script instead of a process.
actor FakeChannel: WorkerChannel {
    typealias Handler = @Sendable (_ op: String, _ args: [String: Any], _ id: Int) -> Result<String, WorkerFailure>
    private let handler: Handler
    private(set) var operations: [String] = []
    private(set) var killed = false
    private var queued: [String] = []

    /// Operations that take this long before their reply (a model that loads and compiles
    /// for a minute); a kill meanwhile ends them as a process's exit would.
    private let delays: [String: Duration]

    init(handler: @escaping Handler, delays: [String: Duration] = [:]) {
        self.handler = handler
        self.delays = delays
    }

    func exchange(_ line: String, timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        let op = object["op"] as? String ?? "?"
        operations.append(op)
        if let delay = delays[op] {
            let end = ContinuousClock.now + delay
            while ContinuousClock.now < end {
                if killed { throw .exited(status: "killed by SIGKILL", stderrTail: "") }
                await Task.yield()
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return try handler(op, object["args"] as? [String: Any] ?? [:], object["id"] as? Int ?? 0).get()
    }

    /// Pipelined requests: the scripted reply is queued for ``receive(timeout:operation:)``.
    func send(_ line: String) async throws(WorkerFailure) {
        queued.append(try await exchange(line, timeout: .seconds(1), operation: "send"))
    }

    func receive(timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        guard !queued.isEmpty else { throw .timedOut(operation: operation, seconds: 0, stderrTail: "") }
        return queued.removeFirst()
    }

    func close(grace: Duration) async {}
    func kill() async { killed = true }
    var processID: Int32? { nil }

    static func ok(_ id: Int, _ result: String) -> Result<String, WorkerFailure> {
        .success(#"{"id": \#(id), "ok": true, "result": \#(result)}"#)
    }

    static func error(_ id: Int, kind: String, message: String) -> Result<String, WorkerFailure> {
        .success(#"{"id": \#(id), "ok": false, "error": {"kind": "\#(kind)", "message": "\#(message)"}}"#)
    }

    static let hello = #"{"protocol": 2, "worker_version": "test", "env": {"python": "3.11", "torch": "2.9.0", "cuda_available": false, "gpus": []}}"#
    static let zoo = #"[{"name": "mlp", "description": "", "params": {}, "needs": []}, {"name": "synthetic", "description": "", "params": {}, "needs": []}]"#
    static let load = #"{"load_s": 0.1, "compile_s": 0, "first_call_ms": 1.0}"#

    /// A well-behaved worker whose iterations take `ms` milliseconds (with a little spread).
    static func healthy(ms: Double = 1.0) -> Handler {
        { op, args, id in
            switch op {
            case "hello": return ok(id, hello)
            case "models": return ok(id, zoo)
            case "check": return ok(id, #"{"model": "\#(args["model"] as? String ?? "")", "params": {}}"#)
            case "load": return ok(id, load)
            case "measure":
                let n = args["iterations"] as? Int ?? 1
                if args["mode"] as? String == "throughput" {
                    return ok(id, #"{"total_ns": \#(Int(ms * 1e6) * n), "iterations": \#(n)}"#)
                }
                let times = (0..<n).map { i in String(Int(ms * 1e6) + (i % 7) * 1000) }.joined(separator: ",")
                return ok(id, #"{"device_ns": null, "host_ns": [\#(times)], "clock": "perf_counter"}"#)
            case "verify": return ok(id, #"{"max_abs_err": 0, "max_rel_err": 0, "cosine": 1, "within_tolerance": true}"#)
            case "memory": return ok(id, #"{"rss_mb": 100}"#)
            default: return ok(id, "{}")
            }
        }
    }
}

/// Starts fake workers; counts how many were started.
final class FakeStarter: WorkerStarter, @unchecked Sendable {
    let makeHandler: @Sendable (Int) -> FakeChannel.Handler
    let delays: [String: Duration]
    private let lock = NSLock()
    private var started = 0

    init(delays: [String: Duration] = [:], makeHandler: @escaping @Sendable (Int) -> FakeChannel.Handler) {
        self.makeHandler = makeHandler
        self.delays = delays
    }

    var startCount: Int { lock.withLock { started } }

    func start(label: String) async throws(InferbenchError) -> (Worker, HelloResult) {
        let n = lock.withLock {
            started += 1; return started
        }
        let worker = Worker(channel: FakeChannel(handler: makeHandler(n), delays: delays))
        do { return (worker, try await worker.hello()) } catch { throw .worker("\(error)") }
    }
}
