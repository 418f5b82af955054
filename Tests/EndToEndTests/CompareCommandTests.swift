import Foundation
import Testing

@testable import InferbenchCore

/// `inferbench compare` end to end: the real binary on results files, every exit code.
@Suite(.serialized) struct CompareCommandTests {
    let dir = CLI.temporaryDirectory()

    @Test func aSlowerRunIsReportedAndExitsZeroWithoutAThreshold() throws {
        let a = try ResultsFiles.write(into: dir.appending(path: "a"))
        let b = try ResultsFiles.write(into: dir.appending(path: "b"), slower: 1.2)
        let r = try CLI.run(["compare", a.path, b.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("B/A") && r.stdout.contains("1.20") && r.stdout.contains("+20.0%") && r.stdout.contains("SLOWER"))
        #expect(r.stdout.contains("2 matched: 2 slower, 0 faster, 0 no significant difference"))
        #expect(r.stderr.isEmpty)
    }

    @Test func twoLoadTestsCompareCapacityAndSayThatMetricIsForRuns() throws {
        let a = try ResultsFiles.writeLoad(into: dir.appending(path: "load-a"), lowerQPS: 300, upperQPS: 400)
        let b = try ResultsFiles.writeLoad(into: dir.appending(path: "load-b"), lowerQPS: 150, upperQPS: 200)
        let r = try CLI.run(["compare", a.path, b.path, "--metric", "p99"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("capacity") && r.stdout.contains("LOWER"), "stdout: \(r.stdout)")
        #expect(r.stderr.contains("note: --metric p99 is for benchmark runs"))
        let gate = try CLI.run(["compare", a.path, b.path, "--fail-on-regression", "10"])
        #expect(gate.status == 3 && gate.stderr.contains("regression: capacity fell") && !gate.stderr.contains("--metric"))
    }

    @Test func regressionBeyondTheThresholdExits3NamingTheWorst() throws {
        let a = try ResultsFiles.write(into: dir.appending(path: "a"))
        let b = try ResultsFiles.write(into: dir.appending(path: "b"), slower: 1.2, defaultSlower: 1.1)
        // Folders work as well as files.
        let r = try CLI.run(["compare", a.deletingLastPathComponent().path, b.deletingLastPathComponent().path, "--fail-on-regression", "10"])
        #expect(r.status == 3, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("regression: mlp default/fp32/bs1 is 32.0% slower in B"))
        #expect(r.stderr.contains("beyond --fail-on-regression 10%"))
        #expect(r.stdout.contains("SLOWER"), "the table still prints: \(r.stdout)")
        let generous = try CLI.run(["compare", a.path, b.path, "--fail-on-regression", "40"])
        #expect(generous.status == 0, "stderr: \(generous.stderr)")
    }

    @Test func identicalRunsShowNoSignificantDifference() throws {
        let a = try ResultsFiles.write(into: dir.appending(path: "a"))
        let r = try CLI.run(["compare", a.path, a.path, "--fail-on-regression", "0"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("no significant difference"))
        #expect(!r.stdout.contains("SLOWER"))
    }

    @Test func throughputMetricRegressesWhenItDrops() throws {
        let a = try ResultsFiles.write(into: dir.appending(path: "a"))
        let b = try ResultsFiles.write(into: dir.appending(path: "b"), slower: 1.2)
        let r = try CLI.run(["compare", a.path, b.path, "--metric", "throughput", "--fail-on-regression", "10"])
        #expect(r.status == 3, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("samples/s") && r.stderr.contains("16.7% slower"))
        let faster = try CLI.run(["compare", b.path, a.path, "--metric", "throughput", "--fail-on-regression", "10"])
        #expect(faster.status == 0 && faster.stdout.contains("faster"))
        let p99 = try CLI.run(["compare", a.path, b.path, "--metric", "p99", "--fail-on-regression", "10"])
        #expect(p99.status == 3, "p99 intervals come from the samples: \(p99.stderr)")
    }

    @Test func badInputExits64WithTheFix() throws {
        let a = try ResultsFiles.write(into: dir.appending(path: "a"))
        let missing = try CLI.run(["compare", a.path, dir.appending(path: "nope.json").path])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("B \(dir.appending(path: "nope.json").path): no such file or folder"))
        let empty = dir.appending(path: "empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let folder = try CLI.run(["compare", empty.path, a.path])
        #expect(folder.status == 64 && folder.stderr.contains("holds no results.json"))
        let junk = dir.appending(path: "junk.json")
        try Data("{\"cells\": 3}".utf8).write(to: junk)
        let notResults = try CLI.run(["compare", a.path, junk.path])
        #expect(notResults.status == 64 && notResults.stderr.contains("not an inferbench results file"))
        let metric = try CLI.run(["compare", a.path, a.path, "--metric", "p42"])
        #expect(metric.status == 64 && metric.stderr.contains("'p50', 'mean', 'p99' or 'throughput'"))
        let threshold = try CLI.run(["compare", a.path, a.path, "--fail-on-regression", "-5"])
        #expect(threshold.status == 64 && threshold.stderr.contains("--fail-on-regression"))
    }
}
