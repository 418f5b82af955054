import Foundation
import Testing

/// The real binary against a real worker, on the CPU, with small models.
@Suite(.serialized) struct RunCommandTests {
    @Test func mlpAndBertTinyProduceAFullResultsFile() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run(["run", "--model", "mlp,bert-tiny:seq=32", "--batch", "1,2", "--max-time", "1", "--min-time", "0.3", "--quiet", "--out", out.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("mlp") && r.stdout.contains("bert-tiny:seq=32"))
        #expect(r.stdout.contains("4 of 4 cells ok"))
        #expect(!r.stderr.contains("["), "--quiet must silence progress: \(r.stderr)")
        // A CPU machine has no NVML: nothing to say about it (issue 17: quiet where nothing is wrong).
        #expect(!r.stderr.contains("NVML") && !r.stdout.contains("NVML"), "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").allSatisfy { $0.count <= 100 }, "the summary fits 100 columns: \(r.stdout)")
        let json = try CLI.results(in: out)
        #expect(json["schema"] as? String == "inferbench.results/v1")
        for report in ["report.md", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out.appending(path: report).path), "run writes \(report)")
        }
        let run = try #require(json["run"] as? [String: Any])
        #expect(run["status"] as? String == "complete")
        let envs = try #require(json["environments"] as? [[String: Any]])
        #expect(envs.first?["torch"] as? String != nil)
        let cells = try #require(json["cells"] as? [[String: Any]])
        #expect(cells.count == 4)
        for cell in cells {
            #expect(cell["status"] as? String == "ok")
            let latency = try #require(cell["latency_ms"] as? [String: Any])
            for key in ["n", "mean", "stddev", "min", "p50", "p90", "p95", "p99", "p999", "max", "ci95"] {
                #expect(latency[key] != nil, "latency_ms.\(key) missing")
            }
            #expect((latency["p50"] as? Double ?? 0) > 0)
            #expect((cell["throughput_per_s"] as? Double ?? 0) > 0)
            let cold = try #require(cell["cold_start"] as? [String: Any])
            #expect(cold["load_s"] != nil && cold["first_call_ms"] != nil)
            let accuracy = try #require(cell["accuracy"] as? [String: Any])
            #expect(accuracy["within_tolerance"] as? Bool == true)
            #expect(cell["memory_mb"] != nil)
        }
    }

    @Test func unknownModelSuggestsNearNames() throws {
        let r = try CLI.run(["run", "--model", "resnet-50", "--quiet", "--out", CLI.temporaryDirectory().path])
        #expect(r.status == 64)
        #expect(r.stderr.contains("unknown model `resnet-50`") && r.stderr.contains("resnet50"))
        #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }.count == 1)
        #expect(!r.stderr.contains("NVML"), "a typo says only the typo: \(r.stderr)")
    }

    @Test func badFlagsAreRejectedWithTheFix() throws {
        let batch = try CLI.run(["run", "--model", "mlp", "--batch", "0"])
        #expect(batch.status == 64)
        #expect(batch.stderr.contains("--batch"))
        let precision = try CLI.run(["run", "--model", "mlp", "--precision", "fp33"])
        #expect(precision.status == 64)
        #expect(precision.stderr.contains("fp32"))
        let device = try CLI.run(["run", "--model", "mlp", "--device", "tpu"])
        #expect(device.status == 64)
    }

    @Test func missingPythonIsABadInput() throws {
        let r = try CLI.run(["run", "--model", "mlp", "--python", "/nonexistent/python3"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("/nonexistent/python3") && r.stderr.contains("no such file"))
    }

    @Test func pythonWithoutTorchNamesTheInstallCommand() throws {
        let venv = CLI.temporaryDirectory().appending(path: "notorch")
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = ["python3", "-m", "venv", "--without-pip", venv.path]
        try make.run()
        make.waitUntilExit()
        let python = venv.appending(path: "bin/python").path
        let r = try CLI.run(["run", "--model", "mlp", "--python", python, "--quiet", "--out", CLI.temporaryDirectory().path])
        #expect(r.status == 4, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("pip install torch"))
        // The synthetic model needs no torch, so the same Python benchmarks it.
        let s = try CLI.run([
            "run", "--model", "synthetic:median_ms=1", "--python", python, "--max-time", "0.5", "--quiet", "--out", CLI.temporaryDirectory().path,
        ])
        #expect(s.status == 0, "stderr: \(s.stderr)")
    }

    @Test func cudaOnACPUMachineIsAnEnvironmentError() throws {
        let r = try CLI.run(["run", "--model", "mlp", "--device", "cuda", "--quiet", "--out", CLI.temporaryDirectory().path])
        #expect(r.status == 4)
        #expect(r.stderr.contains("sees no CUDA GPU") && r.stderr.contains("--device cpu"))
    }

    @Test func aKilledWorkerLosesOnlyItsCell() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run(
            ["run", "--model", "synthetic:median_ms=20", "--batch", "1,2", "--min-time", "3", "--max-time", "3", "--no-verify", "--quiet", "--out", out.path],
            whileRunning: { pid in
                // Kill the first worker a second into its 3-second measurement.
                CLI.waitForCells(0, in: out)
                Thread.sleep(forTimeInterval: 1.0)
                for child in CLI.children(of: pid) { kill(child, SIGKILL) }
            })
        #expect(r.status == 2, "stderr: \(r.stderr)")
        let cells = try #require(try CLI.results(in: out)["cells"] as? [[String: Any]])
        #expect(cells.map { $0["status"] as? String } == ["failed", "ok"])
        let error = try #require(cells[0]["error"] as? [String: Any])
        #expect(error["kind"] as? String == "worker_crash")
        #expect((error["message"] as? String ?? "").contains("SIGKILL"))
    }

    @Test func aHungWorkerIsKilledAfterTheTimeout() throws {
        let out = CLI.temporaryDirectory()
        let start = Date()
        let r = try CLI.run(["run", "--model", "synthetic:median_ms=60000", "--timeout", "2", "--quiet", "--out", out.path])
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(r.status == 5, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("did not answer"))
        let cells = try #require(try CLI.results(in: out)["cells"] as? [[String: Any]])
        #expect((cells.first?["error"] as? [String: Any])?["kind"] as? String == "timeout")
    }

    @Test func ctrlCKeepsFinishedCells() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run(
            ["run", "--model", "synthetic:median_ms=5", "--batch", "1,2,3", "--min-time", "2", "--max-time", "2", "--quiet", "--out", out.path],
            whileRunning: { pid in
                // Interrupt during the second cell.
                CLI.waitForCells(1, in: out)
                Thread.sleep(forTimeInterval: 0.5)
                kill(pid, SIGINT)
            })
        #expect(r.status == 130, "stderr: \(r.stderr)")
        let json = try CLI.results(in: out)
        #expect((json["run"] as? [String: Any])?["status"] as? String == "incomplete")
        let cells = try #require(json["cells"] as? [[String: Any]])
        #expect(cells.first?["status"] as? String == "ok")
        #expect(cells.contains { $0["status"] as? String == "skipped" })
    }

    @Test func modelsListsTheZoo() throws {
        let r = try CLI.run(["models"])
        #expect(r.status == 0)
        for name in ["mlp", "resnet18", "resnet50", "bert-base", "bert-tiny", "synthetic"] {
            #expect(r.stdout.contains(name))
        }
        // Parameter lists and descriptions wrap, alternatives (a|b|c) included: 100 columns.
        let wide = r.stdout.split(separator: "\n").filter { $0.count > 100 }
        #expect(wide.isEmpty, "\(wide)")
    }
}
