import Foundation
import Testing

/// `--env NAME=PYTHON` twice: two Python environments in one run, interleaved and compared cell
/// by cell. The second environment's Python is a wrapper that makes the synthetic model 1.5x
/// slower ($INFERBENCH_SYNTHETIC_SCALE), so the comparison has a known answer: 1/1.5 = 0.667x.
@Suite(.serialized) struct EnvironmentsEndToEndTests {
    @Test func twoEnvironmentsAreComparedCellByCell() throws {
        let dir = CLI.temporaryDirectory()
        let slow = dir.appending(path: "slow-python")
        try "#!/bin/sh\nINFERBENCH_SYNTHETIC_SCALE=1.5 exec \"\(CLI.python)\" \"$@\"\n".write(to: slow, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: slow.path)
        let out = dir.appending(path: "run")
        let r = try CLI.run([
            "run", "--env", "fast=\(CLI.python)", "--env", "slow=\(slow.path)", "--model", "synthetic:median_ms=2", "--batch", "1,2",
            "--min-time", "1", "--max-time", "2", "--no-verify", "--no-throughput", "--no-telemetry", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let json = try CLI.results(in: out)
        let envs = try #require(json["environments"] as? [[String: Any]])
        #expect(envs.compactMap { $0["name"] as? String } == ["fast", "slow"])
        // Each environment records the interpreter its workers ran (the wrapper execs the real one).
        #expect(envs.allSatisfy { ($0["python"] as? String)?.isEmpty == false && $0["python_version"] as? String != nil })
        let cells = try #require(json["cells"] as? [[String: Any]])
        #expect(cells.count == 4 && cells.allSatisfy { $0["status"] as? String == "ok" })
        #expect(Set(cells.compactMap { $0["environment"] as? String }) == ["fast", "slow"])
        let comparisons = try #require(json["comparisons"] as? [[String: Any]]).filter { $0["metric"] as? String == "p50_speedup_vs_environment" }
        try #require(comparisons.count == 2, "\(comparisons)")
        for c in comparisons {
            let ratio = try #require(c["ratio"] as? Double)
            #expect(abs(ratio - 1 / 1.5) < 0.05, "slow vs fast: \(ratio)")
            #expect(c["significant"] as? Bool == true)
            #expect((c["baseline"] as? String)?.contains("|fast|") == true && (c["candidate"] as? String)?.contains("|slow|") == true)
        }
        // Notes wrap at 100 columns with a hanging indent: read them as one line each.
        let notes = r.stdout.replacingOccurrences(of: "\n    ", with: " ")
        #expect(notes.contains("environments: ") && notes.contains("[fast] vs") && notes.contains("slow speedup 0."), "\(r.stdout)")
        let md = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(md.contains("Environments compared"))
    }

    @Test func aBadEnvironmentIsNamed() throws {
        let r = try CLI.run(["run", "--env", "broken=/nonexistent/python", "--model", "synthetic", "--quiet", "--out", CLI.temporaryDirectory().path])
        #expect(r.status == 64 && r.stderr.contains("/nonexistent/python"), "\(r.status) \(r.stderr)")
    }
}
