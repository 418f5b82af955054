import Foundation
import Testing

@testable import InferbenchCore

@Suite struct ResultsStoreTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "inferbench-store-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func store() throws -> ResultsStore { try ResultsStore(path: directory.appending(path: "s.sqlite").path) }

    func json(_ results: RunResults) throws -> String { String(decoding: try RunResults.encoder().encode(results), as: UTF8.self) }

    func run(_ id: String, started: Date, model: String = "mlp", torch: String = "2.6.0", p50: Double = 10) -> RunResults {
        var results = ReportFixture.results()
        results.run.id = id
        results.run.startedAt = started
        results.environments[0].torch = torch
        results.cells = [ReportFixture.cell(model, .eager, batch: 1, p50: p50, half: 0.1, throughput: 100)]
        return results
    }

    @Test func migrationCreatesTheSchemaOnAnEmptyFile() throws {
        let path = directory.appending(path: "nested/new.sqlite").path
        let store = try ResultsStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3"])
        #expect(try store.tableNames() == ["cell", "environment", "histogram", "load_step", "load_window", "recommend", "run", "telemetry", "telemetry_chunk"])
        // Opening again migrates nothing and loses nothing.
        #expect(try ResultsStore(path: path).appliedMigrations() == ["v1", "v2", "v3"])
    }

    @Test func roundTripKeepsTheWholeResults() throws {
        let store = try store()
        var results = ReportFixture.results()
        var load = LoadTestResult(scenario: "open-loop constant 100 qps")
        load.windows = [.init(t: 0, seconds: 1, qps: 99, p50: 2, p99: nil, errors: 0)]
        results.loadTests = [load]
        try store.save(results)
        let back = try #require(try store.results(runID: results.run.id))
        #expect(try json(back) == json(results))
        #expect(try store.results(runID: "nope") == nil)
    }

    @Test func savingTwiceReplacesTheRun() throws {
        let store = try store()
        var results = ReportFixture.results()
        results.run.status = .incomplete
        results.cells = Array(results.cells.prefix(2))
        try store.save(results)
        results = ReportFixture.results()
        try store.save(results)
        try store.save(results)
        let runs = try store.runs()
        #expect(runs.count == 1)
        #expect(runs[0].status == .complete)
        #expect(runs[0].cellsTotal == results.cells.count)
        #expect(runs[0].cellsOK == results.cells.count - 1)
        #expect(runs[0].bestP50 == ["resnet50": 4, "bert-base:seq=128": 4.95])
        #expect(runs[0].models == ["resnet50", "bert-base:seq=128"])
        #expect(try json(#require(try store.results(runID: results.run.id))) == json(results))
    }

    @Test func queriesFilterByModelEnvironmentDateAndLimit() throws {
        let store = try store()
        let day: TimeInterval = 86_400
        let t0 = Date(timeIntervalSince1970: 1_764_000_000)
        try store.save(run("r1", started: t0, model: "mlp", torch: "2.5.1"))
        try store.save(run("r2", started: t0 + day, model: "bert-base:seq=128", torch: "2.6.0"))
        try store.save(run("r3", started: t0 + 2 * day, model: "mlp", torch: "2.6.0"))
        #expect(try store.runs().map(\.id) == ["r3", "r2", "r1"])
        #expect(try store.runs(model: "mlp").map(\.id) == ["r3", "r1"])
        #expect(try store.runs(model: "bert-base").map(\.id) == ["r2"])
        #expect(try store.runs(model: "bert").map(\.id) == [])
        #expect(try store.runs(environment: "2.5.1").map(\.id) == ["r1"])
        #expect(try store.runs(environment: "default").count == 3)
        #expect(try store.runs(since: t0 + day).map(\.id) == ["r3", "r2"])
        #expect(try store.runs(model: "mlp", since: t0 + day).map(\.id) == ["r3"])
        #expect(try store.runs(limit: 1).map(\.id) == ["r3"])
    }

    @Test func resolvesIdsPrefixesLatestAndPaths() throws {
        let store = try store()
        let t0 = Date(timeIntervalSince1970: 1_764_000_000)
        try store.save(run("20251124-160000-aaa111", started: t0))
        try store.save(run("20251124-170000-bbb222", started: t0 + 3600))
        try store.save(run("20251124-170000-bbb333", started: t0 + 7200))
        #expect(try store.resolve("latest").run.id == "20251124-170000-bbb333")
        #expect(try store.resolve("20251124-160000-aaa111").run.id == "20251124-160000-aaa111")
        #expect(try store.resolve("20251124-16").run.id == "20251124-160000-aaa111")
        #expect(throws: InferbenchError.self) { try store.resolve("20251124-17") }
        do {
            _ = try store.resolve("20251124-17", role: "A")
        } catch {
            #expect(error.description.contains("2 stored runs start with it"))
        }
        #expect(throws: InferbenchError.self) { try store.resolve("zzz") }
        let file = directory.appending(path: "results.json")
        try run("from-file", started: t0).write(to: file)
        #expect(try store.resolve(file.path).run.id == "from-file")
        let resolved = try ResultsStore.resolve("20251124-16", storePath: store.path, role: "A")
        #expect(resolved.label == "store:20251124-160000-aaa111" && resolved.fromStore)
        // A missing store is not created by a lookup.
        let missing = directory.appending(path: "none.sqlite").path
        #expect(throws: InferbenchError.self) { try ResultsStore.resolve("latest", storePath: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func storePathPrefersTheFlagThenTheEnvironmentThenHome() {
        let env = ["HOME": "/home/u", "INFERBENCH_STORE": "/tmp/e.sqlite"]
        #expect(ResultsStore.defaultPath(flag: "/tmp/f.sqlite", environment: env) == "/tmp/f.sqlite")
        #expect(ResultsStore.defaultPath(flag: nil, environment: env) == "/tmp/e.sqlite")
        #expect(ResultsStore.defaultPath(flag: nil, environment: ["HOME": "/home/u"]) == "/home/u/.inferbench/results.sqlite")
    }

    @Test func historyListsRuns() throws {
        let store = try store()
        try store.save(ReportFixture.results())
        let text = HistoryReport.render(try store.runs(), store: store.path)
        #expect(text.contains("20251124-160000-abc123"))
        #expect(text.contains("default (torch 2.6.0)"))
        #expect(text.contains("9/10"))
        #expect(text.contains("resnet50 4.00"))
        #expect(HistoryReport.render([], store: "s.sqlite").contains("No runs in s.sqlite"))
    }
}
