import Foundation
import Testing

/// `inferbench load --seq-len`: requests of varying length through the real binary and real
/// workers (the synthetic model, whose cost grows with tokens, and bert-tiny under torch.compile).
@Suite(.serialized) struct SequenceLengthsEndToEndTests {
    func results(_ out: URL) throws -> (load: [String: Any], step: [String: Any]) {
        let all = try CLI.results(in: out)
        let steps = try #require(all["load_tests"] as? [[String: Any]])
        return (try #require(all["load"] as? [String: Any]), steps[0])
    }

    /// Lengths drawn from a file, padded to multiples of 64 (capped at the longest, 250): every
    /// shape is warmed, none runs cold, the padding is counted in tokens and the report says
    /// what was warmed. Without warm-up the shapes the test meets run cold and are named.
    @Test func lengthsFromAFileArePaddedWarmedAndReported() throws {
        let dir = CLI.temporaryDirectory()
        let file = dir.appending(path: "lengths.txt")
        try "# tokens per request\n20\n40\n100\n130\n250\n".write(to: file, atomically: true, encoding: .utf8)
        let out = CLI.temporaryDirectory()
        let model = "synthetic:median_ms=1,per_token_ms=0.01"
        let r = try CLI.run([
            "load", "--model", model, "--seq-len", "file:\(file.path)", "--pad-to", "64", "--concurrency", "4", "--duration", "2s",
            "--max-batch", "4", "--batch-buckets", "1,4", "--no-telemetry", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("warm 8 shapes: batch buckets 1,4 × lengths 64,128,192,250"), "\(r.stderr)")
        let (load, s) = try results(out)
        #expect(load["length_buckets"] as? [Int] == [64, 128, 192, 250] && load["warm_lengths"] as? [Int] == [64, 128, 192, 250])
        #expect(load["seq_len"] as? String == "file:lengths.txt" && load["pad_to"] as? String == "64" && load["warmup_shapes"] as? String == "all")
        let lengths = try #require(s["lengths"] as? [String: Any])
        let (held, ran) = (try #require(lengths["mean_tokens"] as? Double), try #require(lengths["mean_padded_tokens"] as? Double))
        #expect(held >= 20 && held <= 250 && ran > held && ran <= 250 && lengths["max_tokens"] as? Int == 250, "\(lengths)")
        #expect(try #require(s["padding_waste"] as? Double) >= ran / held - 1e-9)
        #expect(s["cold_shapes"] == nil && s["recompiles"] == nil && s["errors"] as? Int == 0, "\(s)")
        let report = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(
            report.contains(
                "Request lengths file:lengths.txt, padded to --pad-to 64 (lengths 64,128,192,250); warmed before measuring: every batch bucket at lengths 64,128,192,250."
            ))
        #expect(report.contains("Padding (--pad-to 64, 4 length buckets)"))

        let cold = CLI.temporaryDirectory()
        let c = try CLI.run([
            "load", "--model", model, "--seq-len", "file:\(file.path)", "--warmup-shapes", "none", "--concurrency", "4", "--duration", "2s",
            "--max-batch", "4", "--batch-buckets", "1,4", "--no-telemetry", "--out", cold.path,
        ])
        #expect(c.status == 0, "stderr: \(c.stderr)")
        let shapes = try #require(try results(cold).step["cold_shapes"] as? [String: Any])
        let named = try #require(shapes["shapes"] as? [String])
        #expect(!named.isEmpty && named.allSatisfy { $0.contains("×") } && (shapes["batches"] as? Int ?? 0) >= 1, "\(shapes)")
        let coldReport = try String(contentsOf: cold.appending(path: "report.md"), encoding: .utf8)
        #expect(coldReport.contains("warmed before measuring: only the shape the model loaded at") && coldReport.contains("Cold shapes:"))
    }

    /// bert-tiny compiled with static graphs: warmed at every padded length, nothing recompiles
    /// while requests are measured; warmed at none, the requests' new lengths recompile, and the
    /// step counts them in its windows with torch's reasons.
    @Test func warmedShapesKeepRecompilesOutOfTheMeasurement() throws {
        func load(_ warmup: String) throws -> [String: Any] {
            let out = CLI.temporaryDirectory()
            let r = try CLI.run([
                "load", "--model", "bert-tiny", "--compile", "default", "--dynamic", "false", "--seq-len", "8:32", "--pad-to", "16",
                "--warmup-shapes", warmup, "--qps", "5", "--duration", "3s", "--max-batch", "1", "--window", "1s", "--quiet", "--no-telemetry",
                "--out", out.path,
            ])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            return try results(out).step
        }
        let warm = try load("all")
        #expect(warm["recompiles"] == nil && warm["cold_shapes"] == nil, "\(warm)")
        let cold = try load("none")
        let total = try #require(cold["recompiles"] as? Int)
        let windows = try #require(cold["windows"] as? [[String: Any]])
        #expect(windows.compactMap { $0["recompiles"] as? Int }.reduce(0, +) == total && total >= 1)
        let reasons = try #require(cold["recompile_reasons"] as? [String])
        #expect(reasons.contains { $0.contains("size mismatch") }, "\(reasons)")
    }

    /// Bad lengths are refused with exit 64 before any measurement: a model without a length,
    /// a length above bert's 512, a length file line that is not a number.
    @Test func badLengthsAreRefused() throws {
        let m = try CLI.run(["load", "--model", "mlp", "--seq-len", "32", "--qps", "10"])
        #expect(m.status == 64 && m.stderr.contains("mlp has no sequence length to vary"), "\(m.stderr)")
        let b = try CLI.run(["load", "--model", "bert-tiny", "--seq-len", "8:600", "--qps", "10"])
        #expect(b.status == 64 && b.stderr.contains("must be between 1 and 512"), "\(b.stderr)")
        let file = CLI.temporaryDirectory().appending(path: "bad.txt")
        try "10\nx2\n".write(to: file, atomically: true, encoding: .utf8)
        let f = try CLI.run(["load", "--model", "synthetic", "--seq-len", "file:\(file.path)", "--qps", "10"])
        #expect(f.status == 64 && f.stderr.contains("bad.txt line 2: x2 is not a length"), "\(f.stderr)")
        let p = try CLI.run(["load", "--model", "synthetic", "--pad-to", "32", "--qps", "10"])
        #expect(p.status == 64 && p.stderr.contains("add --seq-len"), "\(p.stderr)")
    }

    /// `run --seq`: bert-tiny under torch.compile swept over two lengths, a static graph per
    /// length beside one dynamic graph. One worker per lane serves both lengths: the static
    /// lane recompiles at the second, the dynamic lane reuses its graph, and the report sets
    /// the two strategies side by side.
    @Test func runSweepsLengthsWithStaticAndDynamicGraphs() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "run", "--model", "bert-tiny", "--seq", "16,48", "--compile", "eager,default", "--min-time", "0.2", "--max-time", "0.5",
            "--no-throughput", "--no-telemetry", "--no-store", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let cells = try #require(try CLI.results(in: out)["cells"] as? [[String: Any]])
        func cell(_ length: Int, _ label: String) -> [String: Any]? {
            cells.first {
                $0["model"] as? String == "bert-tiny:seq=\(length)" && ($0["variant"] as? [String: Any])?["dynamic"] as? Bool == (label == "dynamic")
                    && ($0["variant"] as? [String: Any])?["compile"] as? String == "default"
            }
        }
        #expect(cells.count == 6 && cells.allSatisfy { $0["status"] as? String == "ok" }, "\(cells.map { $0["id"] ?? "" })")
        let staticLater = try #require(cell(48, "static")?["cold_start"] as? [String: Any])
        let dynamicLater = try #require(cell(48, "dynamic")?["cold_start"] as? [String: Any])
        #expect(staticLater["batch_reuse"] as? String == "recompiled", "\(staticLater)")
        #expect(dynamicLater["batch_reuse"] as? String == "reused", "\(dynamicLater)")
        let report = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(report.contains("### Static graphs per length vs one dynamic graph"))
        #expect(report.contains("bert-tiny, default/fp32 at batch 1: static graphs compile"), "\(report)")
    }

    /// `run --seq` bad input: a model without a length, a length bert refuses, a length twice.
    @Test func runRefusesBadLengths() throws {
        let m = try CLI.run(["run", "--model", "mlp", "--seq", "32", "--no-store"])
        #expect(m.status == 64 && m.stderr.contains("--seq: model `mlp` has no sequence length to sweep"), "\(m.stderr)")
        let b = try CLI.run(["run", "--model", "bert-tiny", "--seq", "64,600", "--no-store"])
        #expect(b.status == 64 && b.stderr.contains("must be between 1 and 512"), "\(b.stderr)")
        let d = try CLI.run(["run", "--model", "bert-tiny", "--seq", "64,64", "--no-store"])
        #expect(d.status == 64 && d.stderr.contains("--seq: each length once"), "\(d.stderr)")
        let s = try CLI.run(["run", "--model", "bert-tiny", "--seq", "64", "--shapes", "static", "--dynamic", "--no-store"])
        #expect(s.status == 64 && s.stderr.contains("--dynamic and --shapes: give one"), "\(s.stderr)")
    }

    /// A trace that records each request's length replays it: every request runs at its own
    /// length (the mean of the trace's, exactly), padded and warmed like drawn lengths; a
    /// trace with lengths and --seq-len together, or a length bert refuses, is exit 64.
    @Test func aTraceReplaysEachRequestsLength() throws {
        let dir = CLI.temporaryDirectory()
        let trace = dir.appending(path: "day.csv")
        let lengths = (0..<200).map { [20, 40, 100, 250][$0 % 4] }
        let lines = lengths.enumerated().map { i, n in "\(Double(i) * 0.01),\(n)" }
        try ("offset_s,seq\n" + lines.joined(separator: "\n") + "\n").write(to: trace, atomically: true, encoding: .utf8)
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "load", "--model", "synthetic:median_ms=1,per_token_ms=0.001", "--trace", trace.path, "--pad-to", "64", "--max-batch", "4",
            "--batch-buckets", "1,4", "--no-telemetry", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let (load, s) = try results(out)
        #expect(load["seq_len"] as? String == "trace:day.csv" && load["length_buckets"] as? [Int] == [64, 128, 192, 250], "\(load)")
        let held = try #require((s["lengths"] as? [String: Any])?["mean_tokens"] as? Double)
        #expect(abs(held - 102.5) < 1e-9 && s["completed"] as? Int == 200, "\(s)")

        let both = try CLI.run(["load", "--model", "synthetic", "--trace", trace.path, "--seq-len", "32"])
        #expect(both.status == 64 && both.stderr.contains("(its lengths) and --seq-len: give each request's length one way"), "\(both.stderr)")
        let long = dir.appending(path: "long.csv")
        try "0,16\n0.1,600\n".write(to: long, atomically: true, encoding: .utf8)
        let refused = try CLI.run(["load", "--model", "bert-tiny", "--trace", long.path])
        #expect(refused.status == 64 && refused.stderr.contains("must be between 1 and 512"), "\(refused.stderr)")
    }

    /// `load --image-size`: resnet18 serves requests of three image sizes, each batch one size,
    /// every size warmed; a size the model refuses, --pad-to beside it, or a text model: exit 64.
    @Test func imageSizesAreServedBatchedBySize() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "load", "--model", "resnet18", "--image-size", "32,48,64", "--device", "cpu", "--concurrency", "2", "--duration", "2s",
            "--max-batch", "2", "--batch-buckets", "1,2", "--no-telemetry", "--quiet", "--out", out.path,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let (load, s) = try results(out)
        #expect(load["length_axis"] as? String == "size" && load["seq_len"] as? String == "32,48,64", "\(load)")
        #expect(load["length_buckets"] as? [Int] == [32, 48, 64] && load["warm_lengths"] as? [Int] == [32, 48, 64])
        let lengths = try #require(s["lengths"] as? [String: Any])
        #expect(lengths["mean_tokens"] as? Double == lengths["mean_padded_tokens"] as? Double, "no padding across sizes: \(lengths)")
        #expect(s["cold_shapes"] == nil && (s["completed"] as? Int ?? 0) > 0, "\(s)")
        let report = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(report.contains("Request image sizes 32,48,64 pixels a side, batched by equal size"))

        let small = try CLI.run(["load", "--model", "resnet18", "--image-size", "16,64", "--qps", "5", "--device", "cpu"])
        #expect(small.status == 64 && small.stderr.contains("size 16 is refused by resnet18"), "\(small.stderr)")
        let padded = try CLI.run(["load", "--model", "resnet18", "--image-size", "64", "--pad-to", "32", "--qps", "5"])
        #expect(padded.status == 64 && padded.stderr.contains("drop --pad-to"), "\(padded.stderr)")
        let text = try CLI.run(["load", "--model", "bert-tiny", "--image-size", "64", "--qps", "5", "--device", "cpu"])
        #expect(text.status == 64 && text.stderr.contains("its varying input is set with --seq-len"), "\(text.stderr)")
    }

    /// Offline throughput with lengths runs at lengths drawn like the requests', not all at the
    /// longest: the synthetic model costs 0.01 ms a token, so batches of 16 at 512 tokens cannot
    /// exceed 16 / 82.4 ms = 194 samples/s, while the lognormal mix (median 128) allows over
    /// twice that. With lengths left cold, offline runs at the loaded length and says so.
    @Test func offlineRunsAtTheRequestsLengths() throws {
        func offline(_ extra: [String]) throws -> (perS: Double, load: [String: Any], report: String) {
            let out = CLI.temporaryDirectory()
            let r = try CLI.run(
                [
                    "load", "--model", "synthetic:median_ms=0.5,per_token_ms=0.01", "--seq-len", "lognormal:median=128,sigma=0.6,max=512",
                    "--pad-to", "128", "--max-batch", "16", "--batch-buckets", "1,16", "--offline", "--no-telemetry", "--quiet", "--out", out.path,
                ] + extra)
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let load = try #require(try CLI.results(in: out)["load"] as? [String: Any])
            let perS = try #require((load["offline"] as? [String: Any])?["per_s"] as? Double)
            return (perS, load, try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8))
        }
        let ceilingAt512 = 16 / 0.0824
        let drawn = try offline([])
        #expect(drawn.load["offline_lengths"] as? String == "drawn")
        #expect(drawn.perS > 1.5 * ceilingAt512, "offline \(drawn.perS)/s: not above what 512 tokens allow (\(ceilingAt512)/s)")
        #expect(drawn.report.contains("at lengths drawn like the requests'"))
        let loaded = try offline(["--warmup-shapes", "none"])
        #expect(loaded.load["offline_lengths"] as? String == "loaded" && loaded.perS < 1.1 * ceilingAt512, "\(loaded.perS)")
        #expect(loaded.report.contains("at the longest (loaded) length"))
    }
}
