import Foundation
import Synchronization
import Testing

@testable import InferbenchCore

/// A worker process simulated in memory with the real channel's plumbing: requests go to a
/// serving task that answers as `pipeline.py` does (a pipelined `infer` is answered after a
/// random delay, in any order, at most `in_flight` at once; any other request waits until every
/// pipelined one has replied, then is answered in order), and replies come back through a
/// ``LineMailbox`` as the process's stdout lines do. It has no `exchange` of its own: the
/// protocol's default sends, then receives, two hops, as any channel may.
actor SimulatedWorkerChannel: WorkerChannel {
    private let mailbox = LineMailbox()
    private let requests: AsyncStream<String>.Continuation
    private let server: Task<Void, Never>
    private var exited = false

    /// `maxDelayMicros`: the most a reply takes; `loseEvery`: drop every n-th pipelined
    /// reply (a worker that never answers; 0: none is lost).
    init(seed: UInt64, maxDelayMicros: Int, loseEvery: Int = 0) {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        requests = continuation
        let mailbox = self.mailbox
        server = Task.detached { await Self.serve(stream, mailbox: mailbox, seed: seed, maxDelayMicros: maxDelayMicros, loseEvery: loseEvery) }
    }

    func send(_ line: String) async throws(WorkerFailure) {
        if exited { throw .exited(status: "killed by SIGKILL", stderrTail: "") }
        requests.yield(line)
    }

    func receive(timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        if exited { throw .exited(status: "killed by SIGKILL", stderrTail: "") }
        switch await mailbox.next(timeout: timeout) {
        case .line(let line): return line
        case .endOfStream:
            exited = true
            throw .exited(status: "exit status 0", stderrTail: "")
        case .timedOut:
            await kill()
            throw .timedOut(operation: operation, seconds: 0, stderrTail: "")
        }
    }

    func close(grace: Duration) async {
        requests.finish()
        await server.value
        exited = true
    }

    func kill() async {
        exited = true
        requests.finish()
        server.cancel()
        mailbox.finish()
    }

    var processID: Int32? { nil }

    /// What `pipeline.py` does with the requests, reply by reply.
    private static func serve(_ requests: AsyncStream<String>, mailbox: LineMailbox, seed: UInt64, maxDelayMicros: Int, loseEvery: Int) async {
        let outstanding = Counter()
        var rng = SplitMix(seed: seed)
        var pipelinedSeen = 0
        func drained(below limit: Int) async {
            while outstanding.value >= limit {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .microseconds(20))
            }
        }
        for await line in requests {
            if Task.isCancelled { break }
            let (id, op, args) = HeldChannel.parseRequest(line)
            let delay = Int(rng.next() % UInt64(max(1, maxDelayMicros)))
            let depth = args["in_flight"] as? Int ?? 1
            if op == "infer" && depth > 1 {
                await drained(below: depth)
                pipelinedSeen += 1
                if loseEvery > 0 && pipelinedSeen % loseEvery == 0 { continue }
                outstanding.add(1)
                let batch = args["batch_size"] as? Int ?? 0
                Task.detached {
                    try? await Task.sleep(for: .microseconds(delay))
                    mailbox.push(#"{"id": \#(id), "ok": true, "result": {"device_ns": 7, "host_ns": \#(batch)}}"#)
                    outstanding.add(-1)
                }
                continue
            }
            await drained(below: 1)
            if delay > maxDelayMicros / 2 { try? await Task.sleep(for: .microseconds(delay)) }
            let result: String
            switch op {
            case "hello": result = FakeChannel.hello
            case "load": result = FakeChannel.load
            case "memory": result = #"{"rss_mb": \#(id)}"#
            case "infer": result = #"{"device_ns": null, "host_ns": \#(args["batch_size"] as? Int ?? 0)}"#
            default: result = "{}"
            }
            mailbox.push(#"{"id": \#(id), "ok": true, "result": \#(result)}"#)
            if op == "shutdown" { break }
        }
        // EOF or shutdown: every launched request is answered before the exit.
        await drained(below: 1)
        mailbox.finish()
    }
}

/// A count several tasks change.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add(_ n: Int) { count.withLock { $0 += n } }
}

extension HeldChannel {
    /// A request line's id, op and args.
    static func parseRequest(_ line: String) -> (Int, String, [String: Any]) {
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (object["id"] as? Int ?? 0, object["op"] as? String ?? "?", object["args"] as? [String: Any] ?? [:])
    }
}

/// A small seeded generator (SplitMix64), so that a failing iteration can be run again.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs `body` on a task of its own and waits for it at most `seconds`: nil when it did not
/// finish (a hung call cannot be cancelled, so the task is left behind and the test goes on).
func bounded<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
    let box = Mutex<T?>(nil)
    let done = Mutex(false)
    Task {
        let value = await body()
        box.withLock { $0 = value }
        done.withLock { $0 = true }
    }
    let giveUp = Monotonic.now() + seconds
    while !done.withLock({ $0 }) {
        if Monotonic.now() > giveUp { return nil }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return box.withLock { $0 }
}

@Suite struct PipelinedWorkerStressTests {
    /// Rounds of `inFlight` pipelined calls, every `ordinaryEvery`-th with an ordinary request
    /// (`memory`) sent beside them, as anything that asks a serving worker for its memory would;
    /// then shutdown. `echoes`: the worker answers an infer with its batch size as `host_ns`, so
    /// that a reply handed to the wrong call shows. What went wrong, one line per problem.
    static func drive(_ worker: Worker, rounds: Int, inFlight: Int, ordinaryEvery: Int, seed: UInt64, echoes: Bool = true) async -> [String] {
        var problems: [String] = []
        do { _ = try await worker.hello() } catch { return ["hello: \(error)"] }
        var rng = SplitMix(seed: seed)
        for round in 0..<rounds {
            let withOrdinary = ordinaryEvery > 0 && round % ordinaryEvery == 0
            // Who goes first varies: the ordinary request before, among or after the infers.
            let pauses = (0...inFlight).map { _ in rng.next() % 3 == 0 ? 0 : Int(rng.next() % 200) }
            let found = await withTaskGroup(of: String?.self) { group in
                for k in 0..<inFlight {
                    group.addTask {
                        if pauses[k] > 0 { try? await Task.sleep(for: .microseconds(pauses[k])) }
                        do throws(WorkerError) {
                            let r = try await worker.infer(batchSize: k + 1, inFlight: inFlight)
                            return !echoes || r.hostNS == Int64(k + 1) ? nil : "round \(round): the reply to batch \(k + 1) said \(r.hostNS)"
                        } catch {
                            return "round \(round): infer \(k + 1) threw \(error)"
                        }
                    }
                }
                if withOrdinary {
                    group.addTask {
                        if pauses[inFlight] > 0 { try? await Task.sleep(for: .microseconds(pauses[inFlight])) }
                        do throws(WorkerError) {
                            _ = try await worker.memory()
                            return nil
                        } catch {
                            return "round \(round): memory threw \(error)"
                        }
                    }
                }
                var all: [String] = []
                for await p in group { if let p { all.append(p) } }
                return all
            }
            problems += found
            if !found.isEmpty { break }
        }
        await worker.shutdown()
        return problems
    }

    @Test(arguments: [1, 2, 3, 4])
    func pipelinedCallsWithOrdinaryRequestsBesideThemNeitherHangNorCross(inFlight: Int) async {
        var (hung, ran) = (0, 0)
        var failed: [String] = []
        for iteration in 0..<150 {
            let seed = UInt64(iteration * 10 + inFlight)
            let channel = SimulatedWorkerChannel(seed: seed, maxDelayMicros: 300)
            let worker = Worker(channel: channel, timeouts: WorkerTimeouts(all: .seconds(20)))
            let problems = await bounded(seconds: 5) { await Self.drive(worker, rounds: 12, inFlight: inFlight, ordinaryEvery: 2, seed: seed) }
            ran += 1
            guard let problems else {
                hung += 1
                await channel.kill()
                break  // a hung call never returns: one is enough, and each costs 5 s
            }
            if let first = problems.first { failed.append("iteration \(iteration): \(first)") }
            if failed.count >= 3 { break }
        }
        #expect(hung == 0, "iteration \(ran) of 150 hung (no reply within 5 s)")
        #expect(failed.isEmpty, "\(failed.count) of \(ran) iterations failed; first: \(failed.first ?? "")")
    }

    @Test func pipelinedCallsAloneNeitherHangNorCross() async {
        for iteration in 0..<100 {
            let seed = UInt64(iteration)
            let channel = SimulatedWorkerChannel(seed: seed, maxDelayMicros: 300)
            let worker = Worker(channel: channel, timeouts: WorkerTimeouts(all: .seconds(20)))
            let problems = await bounded(seconds: 10) { await Self.drive(worker, rounds: 20, inFlight: 2 + iteration % 3, ordinaryEvery: 0, seed: seed) }
            #expect(problems == [], "iteration \(iteration)")
            if problems != [] { break }
        }
    }

    /// A worker that never answers one pipelined call: the reply timeout kills it and every
    /// call in flight ends with a failure, promptly; none waits forever.
    @Test func aLostReplyFailsEveryCallInFlightInsteadOfHanging() async {
        for iteration in 0..<40 {
            let seed = UInt64(iteration)
            let channel = SimulatedWorkerChannel(seed: seed, maxDelayMicros: 200, loseEvery: 5)
            let worker = Worker(channel: channel, timeouts: WorkerTimeouts(all: .milliseconds(200)))
            let problems = await bounded(seconds: 10) { await Self.drive(worker, rounds: 10, inFlight: 2 + iteration % 3, ordinaryEvery: 3, seed: seed) }
            guard let problems else {
                Issue.record("iteration \(iteration) hung")
                await channel.kill()
                break
            }
            #expect(problems.contains { $0.contains("timedOut") }, "iteration \(iteration): \(problems)")
        }
    }

    /// The worker killed while calls are in flight (a restart, Ctrl-C): every call returns.
    @Test func aKillWhileCallsAreInFlightEndsEveryCall() async {
        for iteration in 0..<60 {
            let seed = UInt64(iteration)
            let channel = SimulatedWorkerChannel(seed: seed, maxDelayMicros: 400)
            let worker = Worker(channel: channel, timeouts: WorkerTimeouts(all: .seconds(20)))
            var rng = SplitMix(seed: seed)
            let killAfter = Int(rng.next() % 3000)
            Task {
                try? await Task.sleep(for: .microseconds(killAfter))
                await worker.kill()
            }
            let problems = await bounded(seconds: 10) { await Self.drive(worker, rounds: 40, inFlight: 2 + iteration % 3, ordinaryEvery: 4, seed: seed) }
            #expect(problems != nil, "iteration \(iteration) hung after a kill")
            if problems == nil { break }
        }
    }
}

/// The same rounds against the real Python worker over a real ``ProcessWorkerChannel``.
@Suite struct PipelinedProcessWorkerStressTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The project's Python, or nil (the test then has nothing to run).
    static var python: String? {
        if let path = ProcessInfo.processInfo.environment["INFERBENCH_PYTHON"], !path.isEmpty { return path }
        let venv = packageRoot.appending(path: ".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    static func start(timeouts: WorkerTimeouts) async throws -> Worker {
        let python = try #require(Self.python, "no .venv/bin/python")
        let logs = FileManager.default.temporaryDirectory.appending(path: "inferbench-stress-\(UUID().uuidString.prefix(8))")
        let (worker, _) = try await WorkerLauncher(python: python, logDirectory: logs, timeouts: timeouts).start(label: "stress")
        let args = LoadArgs(
            model: "synthetic", params: ["host_ms": "0.05", "device_ms": "0.05"], device: "cpu", precision: "fp32", compile: "eager", batchSize: 4,
            seed: 0, channelsLast: false, fullgraph: false, dynamic: nil)
        _ = try await worker.load(args)
        return worker
    }

    @Test(.enabled(if: python != nil), arguments: [1, 2, 4])
    func aRealWorkerAnswersEveryCallWithOrdinaryRequestsBeside(inFlight: Int) async throws {
        let worker = try await Self.start(timeouts: WorkerTimeouts(all: .seconds(20)))
        let problems = await bounded(seconds: 30) {
            await PipelinedWorkerStressTests.drive(worker, rounds: 400, inFlight: inFlight, ordinaryEvery: 3, seed: UInt64(inFlight), echoes: false)
        }
        if problems == nil { await worker.kill() }
        #expect(problems != nil, "hung: a call got no reply within 30 s")
        // `drive` says hello again: a second hello on a live worker is an ordinary request.
        #expect(problems ?? [] == [], "\(problems ?? [])")
    }
}
