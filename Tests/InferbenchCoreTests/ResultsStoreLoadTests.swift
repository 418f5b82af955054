import Foundation
import GRDB
import Testing

@testable import InferbenchCore

/// The store's v2 schema: load tests recorded window by window, read back when killed, and
/// stores written by the v1 schema migrated.
@Suite struct ResultsStoreLoadTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "inferbench-store-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func store() throws -> ResultsStore { try ResultsStore(path: directory.appending(path: "s.sqlite").path) }

    func json(_ results: RunResults) throws -> String { String(decoding: try RunResults.encoder().encode(results), as: UTF8.self) }

    /// The fixture's test as its events would come: two steps, then two windows of the third
    /// before the process dies. Returns what LoadProgress asked to record.
    func halfway() -> [LoadProgress.Record] {
        let full = LoadFixture.results()
        var start = full
        start.loadTests = []
        start.load?.bestQPS = nil
        start.load?.offlineThroughputPerS = nil
        start.load?.offline = nil
        start.load?.capacity = nil
        start.run.finishedAt = nil
        var progress = LoadProgress(results: start)
        let samples: (Double, Double) -> Timeline = { _, _ in LoadFixture.timeline() }
        var records = progress.apply(.started(offline: OfflineThroughput(rounds: [500, 500], roundSeconds: 1)), telemetry: samples)
        for i in 0..<3 {
            var planned = LoadTestResult(scenario: full.loadTests[i].scenario)
            planned.targetQPS = full.loadTests[i].targetQPS
            planned.phaseStart = full.loadTests[i].phaseStart
            records += progress.apply(.stepStarted(index: i, planned), telemetry: samples)
            for w in full.loadTests[i].windows.prefix(i < 2 ? 4 : 2) { records += progress.apply(.window(step: i, w), telemetry: samples) }
            if i < 2 { records += progress.apply(.stepFinished(index: i, full.loadTests[i]), telemetry: samples) }
        }
        return records
    }

    @Test func progressRecordsEachSampleOnce() {
        let records = halfway()
        let chunks = records.compactMap { record -> Timeline? in if case .window(_, _, _, let t) = record { return t } else { return nil } }
        #expect(chunks.count == 10)
        let times = chunks.flatMap { $0.gpu.map(\.t) }
        // Every sample up to the last window's end (114 s), in order, none twice.
        #expect(times == LoadFixture.timeline().gpu.map(\.t).filter { $0 <= 114 })
        guard case .run(let last) = records.last(where: { if case .run = $0 { return true } else { return false } }) else {
            Issue.record("no run record")
            return
        }
        #expect(last.run.status == .incomplete && last.telemetry == nil)
        #expect(last.loadTests.map(\.partial) == [nil, nil, true])
        // The search's answer so far: 200/s passed, 400/s failed.
        #expect(last.load?.capacity == Capacity(lowerQPS: 200, upperQPS: 400) && last.load?.bestQPS == 200)
        #expect(abs((last.load?.offlineThroughputPerS ?? 0) - 500) < 1e-9 && last.load?.offline?.roundsPerS == [500, 500])
    }

    @Test func aLoadTestKilledHalfWayReadsBackIncompleteWithItsWindows() throws {
        let store = try store()
        for record in halfway() { try store.record(record, resultsPath: "/tmp/r/results.json") }
        let id = LoadFixture.results().run.id
        let back = try #require(try store.results(runID: id))
        #expect(back.run.status == .incomplete)
        #expect(back.loadTests.count == 3)
        #expect(back.loadTests[1].slaMet == false && back.loadTests[1].windows.count == 4)
        let cut = back.loadTests[2]
        #expect(cut.partial == true && cut.windows.map(\.t) == [0, 1])
        #expect(cut.completed == 600 && cut.achievedQPS == 300 && cut.durationS == 2 && cut.phaseEnd == 114 && cut.latencyMS == nil)
        #expect(back.telemetry?.gpu.last?.t == 114 && back.telemetry?.gpu.count == LoadFixture.timeline().gpu.filter { $0.t <= 114 }.count)
        let runs = try store.runs()
        #expect(runs.count == 1)
        #expect(runs[0].kind == .load && runs[0].status == .incomplete && runs[0].models == ["resnet50"])
        #expect(runs[0].loadSteps == 2 && runs[0].loadWindows == 10)
        #expect(try store.runs(model: "resnet50").map(\.id) == [id])
        #expect(try store.runs(model: "mlp").isEmpty)
        #expect(HistoryReport.render(runs, store: store.path).contains("load test, 10 windows"))
        // The report of the killed test draws what was recorded.
        #expect(HTMLReport.render(back).contains("chart-load-timeline"))

        // Finishing replaces the pieces with the whole: no chunks left, every window once.
        let full = LoadFixture.results()
        try store.save(full, resultsPath: "/tmp/r/results.json")
        #expect(try json(#require(try store.results(runID: id))) == json(full))
        #expect(try store.runs()[0].loadWindows == 12)
        let chunks = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM telemetry_chunk") }
        #expect(chunks == 0)
    }

    @Test func windowRowsCarryTheTelemetryClock() throws {
        let store = try store()
        try store.save(LoadFixture.results())
        let rows = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT step, t, start_t, end_t, offered_qps, window_json FROM load_window ORDER BY step, t")
        }
        #expect(rows.count == 12)
        #expect((rows[5]["start_t"] as Double?) == 107 && (rows[5]["end_t"] as Double?) == 108 && (rows[5]["offered_qps"] as Double?) == 400)
        #expect((rows[5]["window_json"] as String?)?.contains("\"offered_qps\" : 400") == true)
    }

    @Test func aV1StoreIsMigratedAndKeepsItsRuns() throws {
        let path = directory.appending(path: "old.sqlite").path
        let results = ReportFixture.results()
        let text = try json(results)
        do {
            // A store as the inferbench of schema v1 left it, with a run and a load window.
            let pool = try DatabasePool(path: path)
            try ResultsStore.migrator.migrate(pool, upTo: "v1")
            try pool.write { db in
                try db.execute(
                    sql: "INSERT INTO run (id, kind, started_at, status, command, hostname, host, inferbench_version, cells_total, cells_ok, results_json) "
                        + "VALUES (?, 'run', '2025-11-24T16:00:00Z', 'complete', 'inferbench run', 'gpu-1', '{}', '0.1.0', 10, 9, ?)",
                    arguments: [results.run.id, text])
                try db.execute(
                    sql: "INSERT INTO load_window (run_id, step, t, seconds, qps, errors) VALUES (?, 0, 0, 1, 99, 0)", arguments: [results.run.id])
            }
            try pool.close()
        }
        let store = try ResultsStore(path: path)
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3"])
        #expect(try store.runs().map(\.id) == [results.run.id])
        #expect(try store.runs()[0].loadWindows == 1)
        #expect(try json(#require(try store.results(runID: results.run.id))) == text)
        let window = try store.pool.read { db in try Row.fetchOne(db, sql: "SELECT qps, start_t, window_json FROM load_window") }
        #expect((window?["qps"] as Double?) == 99 && (window?["start_t"] as Double?) == nil && (window?["window_json"] as String?) == nil)
        // And the migrated store takes the new records.
        for record in halfway() { try store.record(record) }
        #expect(try store.runs().count == 2)
    }
}
