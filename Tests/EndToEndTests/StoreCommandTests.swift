import Foundation
import InferbenchCore
import Testing

/// The results store through the real binary: recording as cells finish, `history`, and store
/// references in `compare` and `report`.
@Suite(.serialized) struct StoreCommandTests {
    let dir = CLI.temporaryDirectory()
    var storePath: String { dir.appending(path: "s.sqlite").path }

    /// Waits until the store at `path` holds a run with at least `cells` cells.
    func waitForStoredCells(_ cells: Int, timeout: TimeInterval = 60) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: storePath), let store = try? ResultsStore(path: storePath),
                let run = try? store.runs().first, run.cellsTotal >= cells
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    @Test func aKilledRunKeepsItsFinishedCellsAndIsIncomplete() throws {
        let out = dir.appending(path: "killed")
        let r = try CLI.run(
            [
                "run", "--model", "synthetic:median_ms=20", "--batch", "1,2,3", "--min-time", "2", "--max-time", "2",
                "--store", storePath, "--out", out.path, "--quiet",
            ], timeout: 300
        ) { pid in
            CLI.waitForCells(1, in: out)
            waitForStoredCells(1)
            kill(pid, SIGKILL)  // the inferbench process, not its worker: no chance to finish up
        }
        #expect(r.status == -1 || r.status == 9 || r.status == SIGKILL, "killed: \(r.status) \(r.stderr)")
        let store = try ResultsStore(path: storePath)
        let runs = try store.runs()
        try #require(runs.count == 1, "stored runs: \(runs)")
        #expect(runs[0].status == .incomplete)
        // The planned cells, not only the finished ones: a killed run reads 1/3 or 2/3.
        #expect(runs[0].cellsTotal == 3)
        #expect(runs[0].cellsOK >= 1 && runs[0].cellsOK < 3)
        #expect(runs[0].models == ["synthetic:median_ms=20"])
        let results = try #require(try store.results(runID: runs[0].id))
        #expect(results.cells.first?.latencyMS?.p50 ?? 0 > 15)
        let history = try CLI.run(["history", "--store", storePath])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains(runs[0].id) && history.stdout.contains("incomplete"), "\(history.stdout)")
        let filtered = try CLI.run(["history", "--store", storePath, "--model", "resnet-50"])
        #expect(filtered.status == 0 && !filtered.stdout.contains(runs[0].id))
    }

    /// Waits until the store at `path` holds a run with at least `windows` load windows.
    func waitForStoredWindows(_ windows: Int, timeout: TimeInterval = 120) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: storePath), let store = try? ResultsStore(path: storePath),
                let run = try? store.runs().first, run.loadWindows >= windows
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    @Test func aKilledLoadTestKeepsItsWindowsAndIsIncomplete() throws {
        let out = dir.appending(path: "killed-load")
        let r = try CLI.run(
            [
                "load", "--model", "synthetic:median_ms=2", "--qps", "50", "--arrival", "constant", "--duration", "60s", "--window", "1s",
                "--max-batch", "1", "--quiet", "--store", storePath, "--out", out.path,
            ], timeout: 300
        ) { pid in
            waitForStoredWindows(3)
            kill(pid, SIGKILL)  // no chance to save the end of the test
        }
        #expect(r.status == -1 || r.status == 9 || r.status == SIGKILL, "killed: \(r.status) \(r.stderr)")
        let store = try ResultsStore(path: storePath)
        let runs = try store.runs()
        try #require(runs.count == 1, "stored runs: \(runs)")
        #expect(runs[0].kind == .load && runs[0].status == .incomplete && runs[0].models == ["synthetic:median_ms=2"])
        #expect(runs[0].loadWindows >= 3 && runs[0].loadWindows < 50)
        let results = try #require(try store.results(runID: runs[0].id))
        try #require(results.loadTests.count == 1)
        let step = results.loadTests[0]
        #expect(step.partial == true && step.latencyMS == nil && step.windows.count == runs[0].loadWindows)
        // 50 requests a second, on time: every whole window offers 50 and completes about 50.
        for w in step.windows {
            #expect(w.offeredQPS == 50, "offered \(String(describing: w.offeredQPS))")
            #expect(abs(w.qps - 50) <= 10, "achieved \(w.qps)")
            #expect(w.start != nil && w.end == w.start.map { $0 + 1 })
        }
        // The host samples recorded so far sit on the windows' clock.
        let host = try #require(results.telemetry?.host)
        let first = try #require(step.windows.first?.start), last = try #require(step.windows.last?.end)
        #expect(host.contains { $0.t >= first && $0.t <= last })
        // results.json was written when the step started: the run, marked incomplete, its step partial.
        let onDisk = try RunResults.read(from: out.appending(path: "results.json"))
        #expect(onDisk.run.id == runs[0].id && onDisk.run.status == .incomplete)
        #expect(onDisk.loadTests.count == 1 && onDisk.loadTests[0].partial == true)
        let history = try CLI.run(["history", "--store", storePath])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains(runs[0].id) && history.stdout.contains("incomplete") && history.stdout.contains("load test, "), "\(history.stdout)")
        let reportDir = dir.appending(path: "killed-report")
        let report = try CLI.run(["report", runs[0].id, "--store", storePath, "--format", "md,html", "--out", reportDir.path])
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOf: reportDir.appending(path: "report.html"), encoding: .utf8)
        #expect(html.contains("chart-load-timeline") && html.contains("INCOMPLETE") && html.contains("cut short"))
    }

    @Test func compareAndReportTakeStoredRuns() throws {
        for _ in 0..<2 {
            let r = try CLI.run([
                "run", "--model", "synthetic:median_ms=1", "--batch", "1", "--max-time", "0.5", "--min-time", "0.3",
                "--no-throughput", "--quiet", "--store", storePath, "--out", CLI.temporaryDirectory().path,
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let ids = try ResultsStore(path: storePath).runs().map(\.id)
        try #require(ids.count == 2)
        let byID = try CLI.run(["compare", ids[1], ids[0], "--store", storePath])
        #expect(byID.status == 0, "\(byID.stderr)")
        #expect(byID.stdout.contains("store:\(ids[1])"), "\(byID.stdout)")
        // INFERBENCH_STORE names the store when --store is not given; `latest` and prefixes resolve.
        let latest = try CLI.run(["compare", String(ids[1].prefix(ids[1].count - 1)), "latest"], environment: ["INFERBENCH_STORE": storePath])
        #expect(latest.status == 0, "\(latest.stderr)")
        let unknown = try CLI.run(["compare", "nosuchrun", "latest", "--store", storePath])
        #expect(unknown.status == 64 && unknown.stderr.contains("inferbench history"), "\(unknown.stderr)")
        let out = dir.appending(path: "report")
        let report = try CLI.run(["report", "latest", "--store", storePath, "--format", "md", "--out", out.path])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appending(path: "report.md").path))
        let noStore = try CLI.run([
            "run", "--model", "synthetic:median_ms=1", "--batch", "1", "--max-time", "0.3", "--min-time", "0.1",
            "--no-throughput", "--quiet", "--no-store", "--store", storePath,
        ])
        #expect(noStore.status == 64)
    }

    @Test func aKilledConcurrencySweepKeepsItsFinishedStepsInResultsJSON() throws {
        let out = dir.appending(path: "killed-sweep")
        let r = try CLI.run(
            [
                "load", "--model", "synthetic:median_ms=2", "--concurrency", "1,2", "--duration", "10s", "--window", "1s", "--quiet",
                "--no-store", "--no-telemetry", "--out", out.path,
            ], timeout: 300
        ) { pid in
            CLI.waitForEntries(2, of: "load_tests", in: out)  // the second step has started
            kill(pid, SIGKILL)
        }
        #expect(r.status == -1 || r.status == 9 || r.status == SIGKILL, "killed: \(r.status) \(r.stderr)")
        let results = try RunResults.read(from: out.appending(path: "results.json"))
        #expect(results.run.status == .incomplete)
        try #require(results.loadTests.count == 2)
        let done = results.loadTests[0], cut = results.loadTests[1]
        #expect(done.partial != true && done.concurrency == 1 && done.completed > 0 && done.latencyMS != nil)
        #expect(cut.partial == true && cut.concurrency == 2)
    }

    @Test func aLoadTestIsRecorded() throws {
        let r = try CLI.run([
            "load", "--model", "synthetic:median_ms=2", "--qps", "50", "--arrival", "constant", "--duration", "2s",
            "--max-batch", "1", "--quiet", "--no-telemetry", "--store", storePath, "--out", dir.appending(path: "load").path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let runs = try ResultsStore(path: storePath).runs()
        try #require(runs.count == 1)
        #expect(runs[0].kind == .load && runs[0].status == .complete)
        let results = try #require(try ResultsStore(path: storePath).results(runID: runs[0].id))
        #expect(results.loadTests.count == 1 && results.loadTests[0].completed > 0)
        let history = try CLI.run(["history", "--store", storePath])
        #expect(history.stdout.contains(runs[0].id) && history.stdout.contains("load test"), "\(history.stdout)")
    }

    /// The store is a convenience: the run goes on without it, but what was not recorded is
    /// said and the exit status (6) tells a script that something was lost.
    @Test func anUnwritableStoreDoesNotStopTheRunButIsReported() throws {
        let blocker = dir.appending(path: "file")
        try Data("x".utf8).write(to: blocker)
        let out = dir.appending(path: "run")
        let r = try CLI.run([
            "run", "--model", "synthetic:median_ms=1", "--batch", "1", "--max-time", "0.3", "--min-time", "0.1",
            "--no-throughput", "--quiet", "--store", blocker.appending(path: "s.sqlite").path, "--out", out.path,
        ])
        #expect(r.status == 6, "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "results store:").count == 2, "one error line as it fails: \(r.stderr)")
        #expect(r.stderr.contains("was not fully written") && r.stderr.contains("results.json is the complete record"))
        let cells = try #require(try CLI.results(in: out)["cells"] as? [[String: Any]])
        #expect(cells.count == 1 && cells[0]["status"] as? String == "ok")
    }
}
