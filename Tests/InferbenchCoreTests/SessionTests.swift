import Foundation
import Testing

@testable import InferbenchCore

/// `RunSession` and `LoadSession` driven in-process with fake workers: what lands on disk, in
/// the store, and which exit status a run ends with.
@Suite(.serialized) struct SessionTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "inferbench-session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func info(_ plan: Plan? = nil) -> RunInfo {
        RunInfo(
            id: "s-\(UUID().uuidString.prefix(6))", startedAt: Date(), finishedAt: nil, status: .incomplete, command: "test", plan: plan,
            host: HostProbe.current(), inferbenchVersion: "test")
    }

    func plan(batches: [Int]) -> Plan {
        var stopping = StoppingRule()
        stopping.minTime = 0
        stopping.maxTime = 0.3
        stopping.minIterations = 10
        var plan = Plan(models: [ModelSpec(name: "mlp")], compile: [.eager], batch: batches, stopping: stopping)
        plan.interleave = false
        plan.batchReuse = false
        return plan
    }

    func runner(_ plan: Plan, starter: FakeStarter = FakeStarter { _ in FakeChannel.healthy() }) -> BenchmarkRunner {
        BenchmarkRunner(plan: plan, environments: [.init(spec: .init(name: "default", python: "py"), starter: starter)])
    }

    @Test func aRunWritesResultsStoreAndReportsAndSucceeds() async throws {
        let folder = try OutputFolder(path: directory.appending(path: "run").path)
        let store = directory.appending(path: "s.sqlite").path
        let session = RunSession(runner: runner(plan(batches: [1, 2])), folder: folder, recorder: StoreRecorder(path: store))
        let outcome = try await session.run(info: info())
        #expect(outcome.status == .success)
        #expect(outcome.problems.isEmpty)
        let onDisk = try RunResults.read(from: folder.resultsURL)
        #expect(onDisk.cells.count == 2)
        #expect(onDisk.run.status == .complete)
        #expect(outcome.reports.map(\.lastPathComponent) == ["report.md", "report.html"])
        let stored = try #require(try ResultsStore(path: store, access: .readOnly).results(runID: onDisk.run.id))
        #expect(stored.cells.count == 2)
    }

    /// results.json cannot be written (a folder is in its place): measuring stops at the first
    /// failed write, the exit status is 6, the line says what is on disk, and no report claims
    /// more than results.json holds.
    @Test func aFailedResultsWriteStopsMeasuringAndSaysWhatIsOnDisk() async throws {
        let folder = try OutputFolder(path: directory.appending(path: "blocked").path)
        try FileManager.default.createDirectory(at: folder.resultsURL.appending(path: "in-the-way"), withIntermediateDirectories: true)
        let session = RunSession(runner: runner(plan(batches: [1, 2, 4])), folder: folder, recorder: StoreRecorder(path: nil))
        let outcome = try await session.run(info: info())
        #expect(outcome.status == .writeFailed)
        #expect(outcome.problems.count == 1)
        #expect(outcome.problems[0].contains("no results.json was written"))
        #expect(outcome.results.cells.contains { $0.status == .skipped }, "cells after the failed write must not be measured")
        #expect(outcome.reports.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.url.appending(path: "report.md").path))
    }

    @Test func aStopBeforeTheFirstCellSkipsEveryCellAndExits130() async throws {
        let folder = try OutputFolder(path: directory.appending(path: "stopped").path)
        let session = RunSession(runner: runner(plan(batches: [1, 2])), folder: folder, recorder: StoreRecorder(path: nil))
        session.stop(.interrupt)
        let outcome = try await session.run(info: info())
        #expect(outcome.status == .interrupted)
        #expect(outcome.results.run.status == .incomplete)
        #expect(outcome.results.cells.allSatisfy { $0.status == .skipped })
        #expect(try RunResults.read(from: folder.resultsURL).run.status == .incomplete)
    }

    @Test func terminateExits143() async throws {
        let folder = try OutputFolder(path: directory.appending(path: "term").path)
        let session = RunSession(runner: runner(plan(batches: [1])), folder: folder, recorder: StoreRecorder(path: nil))
        session.stop(.terminate)
        #expect(try await session.run(info: info()).status == .terminated)
    }

    /// The default plan is chosen from the first worker's hello: no separate probe worker.
    @Test func theDefaultPlanIsChosenByTheFirstWorker() async throws {
        let starter = FakeStarter { _ in FakeChannel.healthy() }
        var r = runner(plan(batches: [1]), starter: starter)
        let chosen = plan(batches: [1, 2])
        r.choosePlan = { env in env.cudaAvailable ? Plan(models: [ModelSpec(name: "resnet50")]) : chosen }
        let folder = try OutputFolder(path: directory.appending(path: "default").path)
        let outcome = try await RunSession(runner: r, folder: folder, recorder: StoreRecorder(path: nil)).run(info: info())
        #expect(outcome.results.cells.map(\.variant.batchSize) == [1, 2])
        #expect(outcome.results.run.plan == chosen)
        // The same plan given outright starts as many workers: choosing it cost no probe worker.
        let plain = FakeStarter { _ in FakeChannel.healthy() }
        let folder2 = try OutputFolder(path: directory.appending(path: "given").path)
        _ = try await RunSession(runner: runner(chosen, starter: plain), folder: folder2, recorder: StoreRecorder(path: nil)).run(info: info())
        #expect(starter.startCount == plain.startCount)
    }

    @Test func allCellsFailingInTheirWorkerExits5() async throws {
        let starter = FakeStarter { _ in
            { op, args, id in
                op == "measure" ? .failure(.exited(status: "killed by SIGKILL", stderrTail: "")) : FakeChannel.healthy()(op, args, id)
            }
        }
        let folder = try OutputFolder(path: directory.appending(path: "crash").path)
        let outcome = try await RunSession(runner: runner(plan(batches: [1]), starter: starter), folder: folder, recorder: StoreRecorder(path: nil))
            .run(info: info())
        #expect(outcome.status == .workerFailure)
    }

    /// A load test in-process: an open loop against fake replicas, recorded step by step.
    @Test func aLoadTestWritesOneCopyOfItsResults() async throws {
        let starter = FakeStarter { _ in
            { op, args, id in
                op == "infer" ? FakeChannel.ok(id, #"{"host_ns": 1000000, "device_ns": null}"#) : FakeChannel.healthy()(op, args, id)
            }
        }
        let folder = try OutputFolder(path: directory.appending(path: "load").path)
        let store = directory.appending(path: "load.sqlite").path
        let variant = Variant(compile: .eager, precision: .fp32, batchSize: 4)
        let test = LoadTest(
            model: ModelSpec(name: "mlp"), variant: variant, seed: 1, replicaSets: [.init(label: "cpu", starter: starter, device: "cpu", count: 1)],
            scenario: .openLoop(.constant(qps: 200), duration: 0.5), offline: false, maxBatch: 4, maxDelay: 0.001, maxQueue: 100, window: 0.25,
            telemetry: nil, progress: { _ in })
        var initial = RunResults(run: info())
        initial.load = LoadInfo(model: "mlp", variant: variant, workers: 1, maxBatch: 4, maxDelayMS: 1, maxQueue: 100, windowS: 0.25, slaP99MS: nil)
        let session = LoadSession(test: test, folder: folder, recorder: StoreRecorder(path: store), sampler: nil)
        let (outcome, _) = try await session.run(initial)
        #expect(outcome.status == .success)
        let onDisk = try RunResults.read(from: folder.resultsURL)
        #expect(onDisk.kind == .load)
        #expect(onDisk.run.status == .complete)
        #expect(onDisk.loadTests.count == 1)
        #expect(onDisk.loadTests[0].completed > 50)
        let stored = try #require(try ResultsStore(path: store, access: .readOnly).results(runID: onDisk.run.id))
        #expect(stored.loadTests.count == 1)
        #expect(stored.loadTests[0].completed == onDisk.loadTests[0].completed)
    }
}

@Suite struct OutputFolderTests {
    @Test func aFileInTheWayIsBadInputNotARawError() throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "inferbench-file-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        #expect(throws: InferbenchError.badInput("--out \(file.path): a file of that name is in the way; give a folder path")) {
            try OutputFolder(path: file.path)
        }
    }

    /// A failed final write after good checkpoints: the folder knows the file is stale (the
    /// cell count alone would say it is complete).
    @Test func aFailedLastWriteIsKnownEvenWithTheSameCellCount() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "inferbench-last-\(UUID().uuidString)")
        let folder = try OutputFolder(path: dir.path)
        let results = RunResults(
            run: RunInfo(
                id: "l", startedAt: Date(), finishedAt: nil, status: .incomplete, command: "x", plan: nil, host: HostProbe.current(),
                inferbenchVersion: "t"))
        #expect(folder.save(results) && folder.lastSaveSucceeded)
        try FileManager.default.removeItem(at: folder.resultsURL)
        try FileManager.default.createDirectory(at: folder.resultsURL.appending(path: "in-the-way"), withIntermediateDirectories: true)
        #expect(!folder.save(results))
        #expect(!folder.lastSaveSucceeded && folder.saved?.cells == 0 && folder.failure != nil)
    }

    @Test func aFailedAtomicWriteKeepsThePreviousFile() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "inferbench-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let target = dir.appending(path: "a.txt")
        try AtomicFile.write("first", to: target)
        #expect(throws: AtomicFile.Failure.self) { try AtomicFile.write("x", to: dir.appending(path: "missing/b.txt")) }
        // A folder in the target's place: the rename fails and nothing is left half-written.
        try FileManager.default.createDirectory(at: dir.appending(path: "c.txt/inside"), withIntermediateDirectories: true)
        #expect(throws: AtomicFile.Failure.self) { try AtomicFile.write("y", to: dir.appending(path: "c.txt")) }
        #expect(try String(contentsOf: target, encoding: .utf8) == "first")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }
}

@Suite struct RecordedPlanTests {
    /// The key table drives the YAML file both ways: rendering a plan and reading it back is
    /// the same plan.
    @Test func aRenderedPlanReadsBackAsTheSamePlan() throws {
        let yaml = """
            models: [resnet50, "bert-base:seq=128"]
            compile: [eager, default, reduce-overhead]
            precision: [fp32, fp16]
            batch: [1, 8, 32]
            device: cuda:1
            channels_last: true
            dynamic: false
            seed: 7
            verify: false
            interleave: false
            batch_reuse: false
            repeats: 3
            min_time: 2
            max_time: 12.5
            target_ci: 0.02
            warmup: 20
            iterations: 400
            environments: { a: /usr/bin/python3, b: /opt/py/bin/python }
            """
        let parsed = try PlanFile.parse(yaml, file: "p.yaml")
        let again = try PlanFile.parse(PlanFile.render(parsed.plan, environments: parsed.environments), file: "rendered.yaml")
        #expect(again.plan == parsed.plan)
        #expect(again.environments == parsed.environments)
        #expect(Set(PlanKey.allCases.map(\.rawValue)) == Set(PlanFile.keys))
    }

    /// A results.json runs again as a plan file: the plan it recorded, exactly.
    @Test func aResultsFileIsAPlanFile() throws {
        var plan = Plan(models: [ModelSpec(name: "mlp")], compile: [.eager, .default], precision: [.fp32], batch: [1, 4])
        plan.stopping.maxWarmup = 5
        plan.repeats = 2
        let dir = FileManager.default.temporaryDirectory.appending(path: "inferbench-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let results = RunResults(
            run: RunInfo(
                id: "p", startedAt: Date(), finishedAt: nil, status: .complete, command: "x", plan: plan, host: HostProbe.current(),
                inferbenchVersion: "t"))
        try results.write(to: dir.appending(path: "results.json"))
        #expect(try PlanFile.load(path: dir.appending(path: "results.json").path).plan == plan)
        #expect(try PlanFile.load(path: dir.path).plan == plan, "a run folder works too")
    }
}
