import Foundation
import Testing

/// A matrix from a YAML plan file, through the real binary and worker, with cells that fail.
@Suite(.serialized) struct PlanFileEndToEndTests {
    @Test func aPlanFileSweepKeepsGoingPastFailingCells() throws {
        let dir = CLI.temporaryDirectory()
        let plan = dir.appending(path: "plan.yaml")
        try """
        # 2 compile modes x 2 batch sizes in fp32, and the same in tf32, which a CPU cannot run.
        models: ["mlp:in=64,hidden=128,out=64,layers=1"]
        compile: [eager, default]
        precision: [fp32, tf32]
        batch: [1, 4]
        min_time: 0.2
        max_time: 0.5
        """.write(to: plan, atomically: true, encoding: .utf8)
        let out = dir.appending(path: "out")
        let r = try CLI.run(["run", plan.path, "--device", "cpu", "--quiet", "--out", out.path], timeout: 900)
        #expect(r.status == 2, "stderr: \(r.stderr)")
        let cells = try #require(try CLI.results(in: out)["cells"] as? [[String: Any]])
        #expect(cells.count == 8)
        let ok = cells.filter { $0["status"] as? String == "ok" }
        let failed = cells.filter { $0["status"] as? String == "failed" }
        #expect(ok.count == 4 && failed.count == 4)
        #expect(failed.allSatisfy { ($0["error"] as? [String: Any])?["kind"] as? String == "unsupported" })
        for cell in ok {
            for key in ["latency_ms", "throughput_per_s", "cold_start", "memory_mb", "accuracy", "flops_per_sample", "measurement"] {
                #expect(cell[key] != nil, "\(key) missing in \(cell["id"] ?? "")")
            }
            let variant = try #require(cell["variant"] as? [String: Any])
            let cold = try #require(cell["cold_start"] as? [String: Any])
            if variant["compile"] as? String == "default" {
                #expect(cell["compile_stats"] != nil)
                #expect((cold["compile_s"] as? Double ?? 0) > 0)
            }
            // The batch sweep keeps each variant loaded: batch 4 is served by batch 1's model.
            if variant["batch_size"] as? Int == 1 {
                #expect(cold["batch_reuse"] == nil && (cold["load_s"] as? Double ?? 0) > 0)
            } else if variant["compile"] as? String == "default" {
                #expect(cold["batch_reuse"] as? String == "recompiled", "dynamo recompiles for the new shape: \(cold)")
            } else {
                #expect(cold["batch_reuse"] as? String == "reused" && cold["load_s"] as? Double == 0)
            }
        }
        let comparisons = try #require(try CLI.results(in: out)["comparisons"] as? [[String: Any]])
        #expect(comparisons.count == 2, "default vs eager at batch 1 and 4")
        #expect(FileManager.default.fileExists(atPath: out.appending(path: "report.md").path))
    }

    @Test func aBadPlanFileNamesTheLineAndField() throws {
        let plan = CLI.temporaryDirectory().appending(path: "bad.yaml")
        try "models: [mlp]\nbatch: [1, 8]\nprecison: [fp16]\n".write(to: plan, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", plan.path, "--quiet"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("bad.yaml:3: precison: unknown key; did you mean precision?"), "stderr: \(r.stderr)")
        let missing = try CLI.run(["run", "/nonexistent/plan.yaml", "--quiet"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("no such plan file"))
    }
}
