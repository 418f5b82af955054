import Foundation
import Testing

/// Zoo and user models beyond plain modules, through the real binary and worker on the CPU:
/// the whole Stable Diffusion pipeline (sd-tiny) and a `.pt2` ExportedProgram.
@Suite(.serialized) struct ModelKindsTests {
    @Test func sdTinyReportsStepsPerCallAndItPerSecond() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "run", "--model", "sd-tiny:steps=2", "--batch", "2", "--max-time", "1", "--min-time", "0.3", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("it/s") && r.stdout.contains("s/image"), "stdout: \(r.stdout)")
        let cell = try #require((try CLI.results(in: out)["cells"] as? [[String: Any]])?.first)
        #expect(cell["status"] as? String == "ok")
        #expect(cell["steps_per_call"] as? Int == 2)
        let p50 = try #require((cell["latency_ms"] as? [String: Any])?["p50"] as? Double)
        let itPerS = try #require(cell["steps_per_s"] as? Double)
        #expect(abs(itPerS - 2 / (p50 / 1000)) < 1e-6 * itPerS)
        #expect(abs((cell["seconds_per_image"] as? Double ?? 0) - p50 / 1000 / 2) < 1e-9)
        #expect((cell["accuracy"] as? [String: Any])?["within_tolerance"] as? Bool == true)
        let md = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(md.contains("| it/s | s/image |"))
    }

    /// A good .pt2 runs at two batch sizes; a file that is not one is bad input, found by the
    /// worker's check before any cell runs (exit 64, no cell measured), not two failed cells.
    @Test func exportedProgramRunsAtTwoBatchSizesAndABadFileIsBadInput() throws {
        let dir = CLI.temporaryDirectory()
        let model = dir.appending(path: "mlp.pt2"), bad = dir.appending(path: "bad.pt2")
        let export = """
            import sys, torch
            m = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).eval()
            ep = torch.export.export(m, (torch.randn(2, 8),), dynamic_shapes=({0: torch.export.Dim("batch")},))
            torch.export.save(ep, sys.argv[1])
            """
        #expect(try CLI.runPython(export, [model.path]) == 0)
        try Data("not a zip".utf8).write(to: bad)
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "run", "--model", model.path, "--batch", "1,3", "--max-time", "0.5", "--min-time", "0.2", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr \(r.stderr)")
        let cells = try #require(try CLI.results(in: out)["cells"] as? [[String: Any]])
        #expect(cells.count == 2 && cells.allSatisfy { $0["status"] as? String == "ok" })
        #expect(Set(cells.compactMap { ($0["variant"] as? [String: Any])?["batch_size"] as? Int }) == [1, 3])
        #expect(cells.allSatisfy { $0["parameters"] as? Int == 8 * 16 + 16 + 16 * 4 + 4 && $0["steps_per_call"] == nil })
        let badOut = CLI.temporaryDirectory()
        let rejected = try CLI.run(["run", "--model", "\(model.path),\(bad.path)", "--batch", "1", "--quiet", "--out", badOut.path])
        #expect(rejected.status == 64)
        #expect(rejected.stderr.contains("not a zip archive"))
        #expect(!FileManager.default.fileExists(atPath: badOut.appending(path: "results.json").path), "nothing was measured")
    }
}
