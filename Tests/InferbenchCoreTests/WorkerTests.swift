import Foundation
import Testing

@testable import InferbenchCore

@Suite struct WorkerTests {
    @Test func helloChecksTheProtocolVersion() async throws {
        let worker = Worker(
            channel: FakeChannel { _, _, id in
                FakeChannel.ok(id, #"{"protocol": 99, "worker_version": "x", "env": {"python": "3", "cuda_available": false, "gpus": []}}"#)
            })
        await #expect(throws: WorkerError.self) { try await worker.hello() }
    }

    @Test func anErrorReplyKeepsTheWorkerUsable() async throws {
        let worker = Worker(
            channel: FakeChannel { op, _, id in
                op == "load" ? FakeChannel.error(id, kind: "oom", message: "CUDA out of memory") : FakeChannel.healthy()(op, [:], id)
            })
        _ = try await worker.hello()
        let args = LoadArgs(
            model: "mlp", params: [:], device: "cpu", precision: "fp32", compile: "eager", batchSize: 1, seed: 0, channelsLast: false, fullgraph: false,
            dynamic: nil)
        await #expect(throws: WorkerError.reply(WorkerErrorPayload(kind: .oom, message: "CUDA out of memory"))) { try await worker.load(args) }
        let memory = try await worker.memory()
        #expect(memory.rssMB == 100)
    }

    @Test func aDeadWorkerStaysFailed() async throws {
        let worker = Worker(
            channel: FakeChannel { op, _, id in
                op == "hello" ? FakeChannel.ok(id, FakeChannel.hello) : .failure(.exited(status: "killed by SIGKILL", stderrTail: ""))
            })
        _ = try await worker.hello()
        await #expect(throws: WorkerError.failure(.exited(status: "killed by SIGKILL", stderrTail: ""))) { try await worker.memory() }
        if case .failed = await worker.state {} else { Issue.record("state should be failed") }
    }

    @Test func checkSendsTheModelAndItsParametersAndPassesOnABadRequest() async throws {
        let worker = Worker(
            channel: FakeChannel { op, args, id in
                guard op == "check" else { return FakeChannel.healthy()(op, args, id) }
                let params = args["params"] as? [String: String] ?? [:]
                guard args["model"] as? String == "mlp", params["layers"] != "0" else {
                    return FakeChannel.error(id, kind: "bad_request", message: "model 'mlp': parameter layers must be >= 1, got 0")
                }
                return FakeChannel.ok(id, #"{"model": "mlp", "params": {"layers": "\#(params["layers"] ?? "2")"}}"#)
            })
        _ = try await worker.hello()
        let accepted = try await worker.check(model: ModelSpec(name: "mlp", params: ["layers": "3"]))
        #expect(accepted == ModelCheck(model: "mlp", params: ["layers": "3"]))
        await #expect(
            throws: WorkerError.reply(WorkerErrorPayload(kind: .badRequest, message: "model 'mlp': parameter layers must be >= 1, got 0"))
        ) { try await worker.check(model: try ModelSpec(parsing: "mlp:layers=0")) }
        if case .ready = await worker.state {} else { Issue.record("an error reply to check must leave the worker ready") }
    }

    @Test func aReplyToAnotherRequestIsAProtocolViolation() async throws {
        let worker = Worker(channel: FakeChannel { _, _, id in FakeChannel.ok(id + 1, FakeChannel.hello) })
        await #expect(throws: WorkerError.self) { try await worker.hello() }
    }
}

final class OperationLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func append(_ n: Int) { lock.withLock { items.append(n) } }
    var values: [Int] { lock.withLock { items } }
}

@Suite struct RunnerTests {
    func info() -> RunInfo {
        RunInfo(
            id: "t", startedAt: Date(), finishedAt: nil, status: .incomplete, command: "test", plan: nil, host: HostProbe.current(), inferbenchVersion: "test")
    }

    func plan(batches: [Int]) -> Plan {
        var stopping = StoppingRule()
        stopping.minTime = 0
        stopping.maxTime = 0.5
        stopping.minIterations = 10
        return Plan(models: [ModelSpec(name: "mlp")], compile: [.eager, .default], batch: batches, stopping: stopping)
    }

    @Test func aFailingCellDoesNotSinkTheSweep() async throws {
        let starter = FakeStarter { _ in
            { op, args, id in
                if op == "load", args["batch_size"] as? Int == 8 { return FakeChannel.error(id, kind: "oom", message: "out of memory at batch 8") }
                return FakeChannel.healthy()(op, args, id)
            }
        }
        var p = plan(batches: [1, 8])
        p.interleave = false
        let runner = BenchmarkRunner(plan: p, environments: [.init(spec: .init(name: "default", python: "py"), starter: starter)])
        let results = try await runner.run(info: info())
        #expect(results.cells.count == 4)
        #expect(results.cells.filter { $0.status == .ok }.count == 2)
        #expect(results.cells.filter { $0.error?.kind == "oom" }.count == 2)
        #expect(starter.startCount == 1, "an error reply must not restart the worker")
        #expect(results.run.status == .complete)
        let ok = try #require(results.cells.first { $0.status == .ok })
        #expect(ok.latencyMS?.n ?? 0 >= 10)
        #expect(ok.throughputSource == "back_to_back")
    }

    @Test func aCrashedWorkerIsReplacedForTheNextCell() async throws {
        let starter = FakeStarter { n in
            { op, args, id in
                if n == 1, op == "measure" { return .failure(.exited(status: "killed by SIGKILL", stderrTail: "")) }
                return FakeChannel.healthy()(op, args, id)
            }
        }
        let runner = BenchmarkRunner(plan: plan(batches: [1]), environments: [.init(spec: .init(name: "default", python: "py"), starter: starter)])
        let results = try await runner.run(info: info())
        #expect(results.cells.map(\.status) == [.failed, .ok])
        #expect(results.cells[0].error?.kind == "worker_crash")
        #expect(starter.startCount == 2)
    }

    @Test func comparedVariantsAreMeasuredInAlternatingRounds() async throws {
        let log = OperationLog()
        let starter = FakeStarter { n in
            { op, args, id in
                if op == "measure", args["mode"] as? String == "latency" { log.append(n) }
                return FakeChannel.healthy()(op, args, id)
            }
        }
        var p = plan(batches: [1])
        p.stopping.iterations = 400
        p.stopping.warmupIterations = 0
        p.repeats = 2
        let runner = BenchmarkRunner(plan: p, environments: [.init(spec: .init(name: "default", python: "py"), starter: starter)])
        let results = try await runner.run(info: info())
        #expect(results.cells.allSatisfy { $0.status == .ok })
        #expect(results.cells.allSatisfy { $0.latencyMS?.n == 800 })
        #expect(results.cells.allSatisfy { $0.measurement?.repeatMediansMS?.count == 2 })
        let order = log.values
        #expect(Set(order) == [1, 2])
        // Alternating: the workers take turns rather than one finishing before the other starts.
        let switches = zip(order, order.dropFirst()).filter { $0 != $1 }.count
        #expect(switches >= 3, "order: \(order)")
    }

    @Test func unknownModelsAreRejectedBeforeAnyCellWithSuggestions() async {
        let starter = FakeStarter { _ in FakeChannel.healthy() }
        var p = plan(batches: [1])
        p.models = [ModelSpec(name: "mpl")]
        let runner = BenchmarkRunner(plan: p, environments: [.init(spec: .init(name: "default", python: "py"), starter: starter)])
        await #expect(throws: InferbenchError.badInput("unknown model `mpl`. Did you mean mlp? `inferbench models` lists them all.")) {
            try await runner.run(info: info())
        }
    }

    @Test func cudaOnAMachineWithoutItIsAnEnvironmentError() async {
        let starter = FakeStarter { _ in FakeChannel.healthy() }
        var p = plan(batches: [1])
        p.device = .cuda(nil)
        let runner = BenchmarkRunner(plan: p, environments: [.init(spec: .init(name: "default", python: "py"), starter: starter)])
        do {
            _ = try await runner.run(info: info())
            Issue.record("expected an error")
        } catch {
            #expect(error.exitStatus == .environment)
            #expect(error.description.contains("--device cpu"))
        }
    }

    @Test func comparisonsAndBreakevenAreDerived() async throws {
        let results = RunResults(
            run: info(),
            cells: [
                cell(compile: .eager, p50: 1.0, mean: 1.0, compileS: 0),
                cell(compile: .default, p50: 0.5, mean: 0.5, compileS: 2.0),
            ])
        var cells = results.cells
        Derived.fillBreakeven(&cells)
        #expect(cells[1].coldStart?.breakevenIterations == 4000)
        let comparisons = Derived.comparisons(cells)
        #expect(comparisons.count == 1)
        #expect(abs(comparisons[0].ratio - 2) < 1e-9)
        #expect(comparisons[0].significant)
    }

    @Test func environmentsAreComparedCellByCell() throws {
        var results = RunResults(
            run: info(),
            cells: [
                cell(compile: .eager, p50: 1.0, mean: 1.0, compileS: 0, environment: "torch24"),
                cell(compile: .default, p50: 0.5, mean: 0.5, compileS: 2.0, environment: "torch24"),
                cell(compile: .eager, p50: 0.8, mean: 0.8, compileS: 0, environment: "torch26"),
                cell(compile: .default, p50: 0.5, mean: 0.5, compileS: 2.0, environment: "torch26"),
            ])
        results.comparisons = Derived.comparisons(results.cells)
        let env = results.comparisons.filter { $0.metric == Derived.environmentMetric }
        #expect(env.count == 2)
        #expect(env[0].baseline == results.cells[0].id && env[0].candidate == results.cells[2].id)
        #expect(abs(env[0].ratio - 1.25) < 1e-9 && env[0].significant)
        #expect(abs(env[1].ratio - 1) < 1e-9 && !env[1].significant)
        #expect(results.comparisons.filter { $0.metric == Derived.speedupMetric }.count == 2, "vs eager, within each environment")
        let md = MarkdownReport.render(results)
        #expect(md.contains("## Environments compared"))
        #expect(md.contains("| mlp | eager/fp32/bs1 | 1.00 | torch26 | 0.800 | 1.25× [1.23–1.27] |"), "\(md)")
        #expect(md.contains("torch26 against torch24, over the 2 cell(s) both ran: faster in 1 (1.25×), no significant difference in 1"), "\(md)")
        #expect(TerminalReport.render(results).contains("environments: mlp"))
        #expect(HTMLReport.render(results).contains("Environments compared"))
    }

    func cell(compile: CompileMode, p50: Double, mean: Double, compileS: Double, environment: String = "default") -> CellResult {
        var c = CellResult(
            spec: CellSpec(model: ModelSpec(name: "mlp"), environment: environment, variant: Variant(compile: compile, precision: .fp32, batchSize: 1)),
            status: .ok)
        c.latencyMS = LatencySummary(
            n: 1000, mean: mean, stddev: 0.01, min: p50 * 0.9, p50: p50, p90: p50, p95: p50, p99: p50, p999: p50, max: p50 * 2,
            ci95: .init(p50: [p50 * 0.99, p50 * 1.01], mean: [mean * 0.99, mean * 1.01]))
        c.coldStart = ColdStart(loadS: 0.1, compileS: compileS, firstCallMS: 1)
        return c
    }
}

@Suite struct WorkerReplicaStopTests {
    /// A stop while a fresh start of the workers loads and compiles ends that worker at once
    /// instead of waiting for its compile (51 s on an H200).
    @Test func aStopWhileAWorkerLoadsEndsItAtOnce() async throws {
        let starter = FakeStarter(delays: ["load": .seconds(60)]) { _ in FakeChannel.healthy() }
        let args = LoadArgs(
            model: "mlp", params: [:], device: "cpu", precision: "fp32", compile: "eager", batchSize: 1, seed: 1, channelsLast: false,
            fullgraph: false, dynamic: false)
        let replica = WorkerReplica(label: "cpu-0", starter: starter, load: args, warmSizes: [1])
        let task = Task { try await replica.start() }
        try await Task.sleep(for: .milliseconds(200))
        let stopped = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - stopped < .seconds(5))
        guard case .failure(let error) = result else {
            Issue.record("a stopped start must not succeed")
            return
        }
        #expect("\(error)".contains("stopped while starting"), "\(error)")
    }
}
