import Foundation
import Testing

/// `inferbench recommend` on the synthetic model with a known cost model: each batch costs a
/// fixed 10 ms plus 0.1 ms a sample, so a max batch of 16 serves up to 16 / 11.5 ms ≈ 1,390
/// req/s and a max batch of 2 at most 2 / 10.1 ms ≈ 198; fp16 runs twice as fast but is
/// 20% off (outside fp16's 5% tolerance). The known optimum is fp32 at max batch 16.
@Suite(.serialized) struct RecommendEndToEndTests {
    static let model = "synthetic:median_ms=10,per_item_ms=0.1,scale=fp16:0.5,error=fp16:0.2"

    func record(_ folder: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appending(path: "recommend.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func findsTheKnownOptimumExcludesTheInaccurateVariantAndCountsGPUs() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "recommend", "--model", Self.model, "--sla-p99", "60", "--compile", "eager", "--precision", "fp32,fp16", "--max-batch", "2,16",
            "--step", "2s", "--peak-qps", "5000", "--headroom", "0.3", "--gpu-price", "3", "--budget", "10m", "--no-store", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Deploy: eager fp32, max batch 16"), "stdout: \(r.stdout)")
        let rec = try record(out)
        let answer = try #require(rec["answer"] as? [String: Any])
        let best = try #require(answer["best"] as? [String: Any])
        let config = try #require(best["config"] as? [String: Any])
        #expect(config["maxBatch"] as? Int == 16)
        #expect((config["variant"] as? [String: Any])?["precision"] as? String == "fp32")
        let lower = try #require(best["lowerQPS"] as? Double)
        #expect(lower > 198, "max batch 16 must beat max batch 2's ceiling of 198 req/s: \(lower)")
        // The fleet is the arithmetic: ceil(peak / (lower × (1 − headroom))), at $3 a GPU-hour.
        let fleet = try #require(answer["fleet"] as? [String: Any])
        let gpus = try #require(fleet["gpus"] as? Int)
        #expect(gpus == Int((5000 / (lower * 0.7)).rounded(.up)))
        let monthly = try #require(fleet["costPerMonthUSD"] as? Double)
        #expect(abs(monthly - Double(gpus) * 3 * 730.5) < 0.01)
        // Both fp16 configurations lost on accuracy at the screen, and say so.
        let runnersUp = try #require(answer["runnersUp"] as? [[String: Any]])
        let fp16 = runnersUp.filter { (($0["config"] as? [String: Any])?["variant"] as? [String: Any])?["precision"] as? String == "fp16" }
        #expect(fp16.count == 2)
        #expect(fp16.allSatisfy { ($0["exclusion"] as? [String: Any])?["reason"] as? String == "accuracy" })
        #expect(r.stdout.contains("accuracy") && r.stdout.contains("max relative error 0.2"))
        // A new replica of the answer was started once the search had compiled it.
        #expect(answer["replicaStartS"] as? Double != nil)
        #expect(FileManager.default.fileExists(atPath: out.appending(path: "replica/results.json").path))
        #expect(r.stdout.contains("once the search compiled it"))
        // The report shows the Pareto chart with the recommendation marked.
        let html = try String(contentsOf: out.appending(path: "report.html"), encoding: .utf8)
        #expect(html.contains("chart-pareto") && html.contains("Pareto front") && html.contains("recommended"))

        // --check measures the recommendation again with a plain load and compares intervals.
        let c = try CLI.run(["recommend", "--check", out.path, "--no-store"])
        #expect([0, 3].contains(c.status), "stderr: \(c.stderr)")
        #expect(c.stdout.contains("Check (check-1)"))
        let checks = try #require(try record(out)["checks"] as? [[String: Any]])
        #expect(checks.count == 1)
        #expect((checks[0]["agrees"] as? Bool) == (c.status == 0))
    }

    /// A bound below one request's own latency: said after the screen, with that latency,
    /// exit 2, the screen kept.
    @Test func anSLABelowTheSingleRequestLatencyIsSaidWithThatLatency() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "recommend", "--model", "synthetic:median_ms=20", "--sla-p99", "5", "--compile", "eager", "--precision", "fp32", "--max-batch", "4",
            "--no-store", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 2, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("no configuration serves within P99 ≤ 5 ms"))
        #expect(r.stderr.contains("one request alone") || r.stderr.contains("the fastest variant takes 20"), "stderr: \(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appending(path: "screen/results.json").path))
        // `report` renders a search folder again, here in Chinese.
        let zh = try CLI.run(["report", out.path, "--lang", "zh"])
        #expect(zh.status == 0, "stderr: \(zh.stderr)")
        let md = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(md.contains("没有配置能在 P99 ≤ 5 ms 内服务"))
    }

    /// A budget too small for one SLA search: the screen is kept, each configuration is marked
    /// unmeasured for the budget, exit 2 naming --budget and --resume; `--resume` with a larger
    /// budget continues from the saved screen (not run again) to an answer.
    @Test func aBudgetTooSmallForOneCandidateKeepsTheScreenAndSaysWhatWouldDo() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "recommend", "--model", "synthetic:median_ms=2", "--sla-p99", "50", "--compile", "eager", "--precision", "fp32", "--max-batch", "4",
            "--budget", "1s", "--no-store", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 2, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--budget") && r.stderr.contains("--resume"), "stderr: \(r.stderr)")
        let configs = try #require(try record(out)["configs"] as? [[String: Any]])
        #expect(configs.allSatisfy { ($0["exclusion"] as? [String: Any])?["reason"] as? String == "budget" })

        let resumed = try CLI.run(["recommend", "--resume", out.path, "--budget", "5m", "--no-store", "--quiet"])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stdout.contains("Deploy: eager fp32, max batch 4"))
        let log = try String(contentsOf: out.appending(path: "screen.log"), encoding: .utf8)
        #expect(log.components(separatedBy: "$ inferbench run").count == 2, "the screen ran once")
        let question = try #require(try record(out)["question"] as? [String: Any])
        #expect(question["budgetS"] as? Double == 300)
    }

    /// Ctrl-C during an SLA search: the running stage stops as an interrupted load does and
    /// keeps its steps, the search saves its record (incomplete) and exits 130; `--resume`
    /// measures that configuration again and answers.
    @Test func anInterruptedSearchIsKeptAndResumes() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run(
            [
                "recommend", "--model", "synthetic:median_ms=2", "--sla-p99", "50", "--compile", "eager", "--precision", "fp32", "--max-batch", "2,8",
                "--step", "2s", "--no-store", "--out", out.path,
            ],
            whileRunning: { pid in
                // Once the first SLA search has finished a step.
                let round = out.appending(path: "round1")
                let deadline = Date().addingTimeInterval(180)
                func stepped() -> Bool {
                    let folders = (try? FileManager.default.contentsOfDirectory(atPath: round.path)) ?? []
                    return folders.contains { name in
                        ((try? CLI.results(in: round.appending(path: name)))?["load_tests"] as? [Any])?.isEmpty == false
                    }
                }
                while Date() < deadline, !stepped() { usleep(200_000) }
                kill(pid, SIGINT)
            })
        #expect(r.status == 130, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--resume"))
        let first = try record(out)
        #expect(first["status"] as? String == "incomplete")
        let measured = try #require(first["configs"] as? [[String: Any]]).flatMap { $0["measurements"] as? [[String: Any]] ?? [] }
        #expect(measured.count == 1 && measured[0]["status"] as? String == "incomplete")
        // The stopped load kept its finished steps in its own results.json.
        let folder = try #require(measured[0]["folder"] as? String)
        let steps = try #require(try CLI.results(in: out.appending(path: folder))["load_tests"] as? [[String: Any]])
        #expect(!steps.isEmpty)

        let resumed = try CLI.run(["recommend", "--resume", out.path, "--no-store", "--quiet"])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stdout.contains("Deploy: eager fp32"))
        #expect(try record(out)["status"] as? String == "complete")
    }

    /// A search is recorded in the store: one cut short by its budget continues from there
    /// (`--resume latest`) after its folder was deleted, without screening again. A compiled
    /// answer (a real tiny model, torch.compile on the CPU) is then started three more ways: with
    /// the compile cache the search left, with empty caches (every graph misses, as on a fresh
    /// machine) and from an AOTInductor package built by one process and loaded by another. The
    /// first one's cache state is reported, not assumed: the search's load workers compiled a
    /// graph dynamic over their batch buckets, which a replica at one batch size may not hit
    /// (here it read `cold`).
    @Test func aStoredSearchResumesByIDAndACompiledAnswerStartsThreeWays() throws {
        let dir = CLI.temporaryDirectory()
        let store = dir.appending(path: "store.sqlite").path
        let out = dir.appending(path: "search")
        let cut = try CLI.run([
            "recommend", "--model", "mlp", "--sla-p99", "200", "--compile", "default", "--precision", "fp32", "--max-batch", "4", "--step", "1s",
            "--budget", "1s", "--store", store, "--quiet", "--out", out.path,
        ])
        #expect(cut.status == 2, "stderr: \(cut.stderr)")
        let id = try #require(try record(out)["id"] as? String)
        let history = try CLI.run(["history", "--store", store])
        #expect(history.status == 0 && history.stdout.contains("Recommend searches") && history.stdout.contains(id), "\(history.stdout)")
        try FileManager.default.removeItem(at: out)

        let r = try CLI.run(["recommend", "--resume", "latest", "--budget", "15m", "--store", store, "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Deploy: default fp32, max batch 4"), "stdout: \(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: out.appending(path: "screen.log").path), "the stored screen was not run again")
        let rec = try record(out)
        #expect(rec["id"] as? String == id && rec["status"] as? String == "complete")
        func replica(_ key: String) throws -> [String: Any] { try #require(rec[key] as? [String: Any], "\(key): \(rec.keys.sorted())") }
        let warm = try replica("replica"), empty = try replica("emptyCacheReplica"), package = try replica("packageReplica")
        #expect(warm["compileCache"] as? String != nil && warm["coldStartS"] as? Double != nil, "\(warm)")
        #expect(empty["compileCache"] as? String == "cold" && empty["coldStartS"] as? Double != nil, "\(empty)")
        #expect(package["coldStartS"] as? Double != nil && package["problem"] == nil, "\(package)")
        let packages = try FileManager.default.contentsOfDirectory(atPath: out.appending(path: "package").path)
        #expect(packages.contains { $0.hasSuffix(".pt2") } && packages.contains { $0.hasSuffix(".pt2.inputs.pt") }, "\(packages)")
        #expect(!FileManager.default.fileExists(atPath: out.appending(path: "replica-empty-cache.cache").path), "the empty caches are removed")
        #expect(r.stdout.contains("with empty compile caches") && r.stdout.contains("from an AOTInductor package"), "stdout: \(r.stdout)")
    }

    @Test(arguments: [
        (["--model", "synthetic"], "--sla-p99"),
        (["--model", "synthetic", "--sla-p99", "0"], "--sla-p99 0"),
        (["--model", "synthetic", "--sla-p99", "5", "--headroom", "1.5"], "--headroom 1.5"),
        (["--model", "synthetic", "--sla-p99", "5", "--max-batch", "0,8"], "--max-batch 0"),
        (["--model", "synthetic", "--sla-p99", "5", "--precision", "fp17"], "--precision fp17"),
        (["--model", "synthetic", "--sla-p99", "5", "--compile", "reduce-overhead", "--device", "cpu"], "needs a GPU"),
        (["--resume", "/nonexistent", "--sla-p99", "5"], "drop the other settings"),
        (["--check", "/nonexistent"], "no recommend.json"),
        (["--resume", "nosuchsearch", "--store", "/nonexistent/store.sqlite"], "no results store"),
    ])
    func badInputIsOneLineAndExit64(arguments: [String], message: String) throws {
        let r = try CLI.run(["recommend"] + arguments + (arguments.contains("--store") ? [] : ["--no-store"]))
        #expect(r.status == 64, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    }

    /// The plan-file form: keys are the flags' names; an unknown key is named with a suggestion.
    @Test func aPlanFileIsReadAndItsUnknownKeysNamed() throws {
        let dir = CLI.temporaryDirectory()
        let bad = dir.appending(path: "bad.yaml")
        try "model: synthetic\nsla-p99: 5\nmax-batchs: [8]\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try CLI.run(["recommend", bad.path, "--no-store"])
        #expect(r.status == 64 && r.stderr.contains("unknown key `max-batchs`") && r.stderr.contains("did you mean max-batch"), "stderr: \(r.stderr)")
        let good = dir.appending(path: "plan.yaml")
        try "model: synthetic:median_ms=20\nsla-p99: 5\ncompile: [eager]\nprecision: fp32\nmax-batch: [4]\n".write(to: good, atomically: true, encoding: .utf8)
        let out = dir.appending(path: "out")
        let g = try CLI.run(["recommend", good.path, "--no-store", "--quiet", "--out", out.path])
        #expect(g.status == 2, "the plan's bound is below the model's 20 ms: \(g.stderr)")
        let question = try #require(try record(out)["question"] as? [String: Any])
        #expect(question["slaP99MS"] as? Double == 5)
    }
}
