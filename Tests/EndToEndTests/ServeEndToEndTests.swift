import Foundation
import Testing

/// `inferbench serve` with real workers (the synthetic model, whose each row's output is its
/// own first 8 bytes), driven over HTTP on loopback, and `load --target` against it.
@Suite(.serialized) struct ServeEndToEndTests {
    static let model = ["--model", "synthetic:median_ms=2,payload_bytes=16", "--no-telemetry"]

    func infer(_ server: ServeProcess, _ bytes: [Int], binary: Bool = false, id: String? = nil) async throws -> HTTPAnswer {
        let url = "\(server.url)/v2/models/synthetic/infer"
        if binary {
            let header = HTTP.json([
                "inputs": [["name": "input0", "shape": [1, 16], "datatype": "UINT8", "parameters": ["binary_data_size": 16]]],
                "parameters": ["binary_data_output": true],
            ])
            return try await HTTP.send(
                "POST", url, body: header + Data(bytes.map(UInt8.init)), headers: ["Inference-Header-Content-Length": String(header.count)])
        }
        var body: [String: Any] = ["inputs": [["name": "input0", "shape": [1, 16], "datatype": "UINT8", "data": bytes]]]
        if let id { body["id"] = id }
        return try await HTTP.send("POST", url, body: HTTP.json(body))
    }

    /// Sixteen requests at once, batched together (up to 4, waiting up to 20 ms): each answer
    /// is its own request's row, in JSON and in binary tensors; the protocol's other endpoints
    /// describe the model; the statistics count what was served.
    @Test func eachRequestGetsItsOwnRowBack() async throws {
        let server = try ServeProcess(Self.model + ["--max-batch", "4", "--max-delay", "20"])
        defer { server.terminate() }
        let answers = try await withThrowingTaskGroup(of: (Int, HTTPAnswer).self) { group in
            for i in 0..<16 {
                group.addTask { (i, try await infer(server, (0..<16).map { ($0 * 7 + i * 13) % 256 }, binary: i % 2 == 1, id: "r\(i)")) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for (i, answer) in answers {
            let want = (0..<8).map { ($0 * 7 + i * 13) % 256 }
            #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            if i % 2 == 1 {
                let length = try #require(answer.headers["inference-header-content-length"].flatMap { Int($0) })
                #expect(Array(answer.body.suffix(from: length)) == want.map(UInt8.init), "request \(i)")
            } else {
                let output = try #require((answer.json["outputs"] as? [[String: Any]])?.first)
                #expect(output["data"] as? [Int] == want && output["shape"] as? [Int] == [1, 8] && output["datatype"] as? String == "UINT8")
                #expect(answer.json["id"] as? String == "r\(i)")
            }
        }
        let meta = try await HTTP.send("GET", "\(server.url)/v2/models/synthetic").json
        #expect((meta["inputs"] as? [[String: Any]])?.first?["shape"] as? [Int] == [-1, 16])
        #expect(try await HTTP.send("GET", "\(server.url)/v2/health/live").status == 200)
        #expect(try await HTTP.send("GET", "\(server.url)/v2/health/ready").status == 200)
        let stats = try await HTTP.send("GET", "\(server.url)/v2/models/synthetic/stats").json
        let entry = try #require((stats["model_stats"] as? [[String: Any]])?.first)
        #expect(entry["inference_count"] as? Int == 16)
        // Batched: fewer executions than requests.
        #expect((entry["execution_count"] as? Int ?? 16) < 16, "\(entry)")
        let metrics = String(decoding: try await HTTP.send("GET", "\(server.url)/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"inferbench_requests_total{model="synthetic",outcome="ok"} 16"#), "\(metrics)")
        #expect(metrics.contains("inferbench_request_duration_seconds_bucket") && metrics.contains("inferbench_batch_size_bucket"))
        #expect(!metrics.contains("gpu_utilization"), "no GPU telemetry off a GPU: \(metrics)")
        #expect(server.terminate() == 0, "\(server.stderr)")
    }

    /// Every bad request is answered 4xx with the protocol's error body, and none reaches a worker.
    @Test func badRequestsAreRefusedBeforeAnyWorker() async throws {
        let server = try ServeProcess(Self.model + ["--max-body-mb", "0.001"])
        defer { server.terminate() }
        let url = "\(server.url)/v2/models/synthetic/infer"
        let input: ([String: Any]) -> Data = { HTTP.json(["inputs": [$0]]) }
        let cases: [(String, String, Data, Int, String)] = [
            ("malformed JSON", url, Data("{not json".utf8), 400, "not a JSON object"),
            ("wrong shape", url, input(["name": "input0", "shape": [1, 15], "datatype": "UINT8", "data": Array(repeating: 1, count: 15)]), 400, "[1, 16]"),
            ("wrong datatype", url, input(["name": "input0", "shape": [1, 16], "datatype": "FP32", "data": Array(repeating: 1, count: 16)]), 400, "UINT8"),
            ("unknown input", url, input(["name": "pixels", "shape": [1, 16], "datatype": "UINT8", "data": Array(repeating: 1, count: 16)]), 400, "input0"),
            ("too few values", url, input(["name": "input0", "shape": [1, 16], "datatype": "UINT8", "data": [1, 2]]), 400, "16 numbers"),
            ("unknown model", "\(server.url)/v2/models/resnet50/infer", input([:]), 404, "serves synthetic"),
            ("oversized body", url, Data(repeating: 32, count: 4096), 413, "--max-body-mb"),
        ]
        for (what, target, body, status, words) in cases {
            let answer = try await HTTP.send("POST", target, body: body)
            #expect(answer.status == status, "\(what): \(answer.status)")
            #expect((answer.json["error"] as? String)?.contains(words) == true, "\(what): \(String(decoding: answer.body, as: UTF8.self))")
        }
        let stats = try await HTTP.send("GET", "\(server.url)/v2/models/synthetic/stats").json
        #expect(((stats["model_stats"] as? [[String: Any]])?.first?["execution_count"] as? Int) == 0)
        let metrics = String(decoding: try await HTTP.send("GET", "\(server.url)/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"outcome="bad_request"} 7"#), "\(metrics)")
    }

    /// A full queue answers 503 with Retry-After; a request over --request-timeout answers 504.
    @Test func overloadAndTimeoutsAnswerWithTheirStatus() async throws {
        let server = try ServeProcess([
            "--model", "synthetic:median_ms=400,payload_bytes=16", "--no-telemetry", "--max-batch", "1", "--in-flight", "1", "--max-queue", "1",
            "--request-timeout", "0.6",
        ])
        defer { server.terminate() }
        let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
            for _ in 0..<6 { group.addTask { try await infer(server, Array(repeating: 3, count: 16)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let statuses = answers.map(\.status).sorted()
        #expect(statuses.contains(200), "\(statuses)")
        #expect(statuses.contains(503), "\(statuses)")
        #expect(answers.first { $0.status == 503 }?.headers["retry-after"] == "1")
        // The queued one waits for the running one (400 ms) and its own (400 ms): over 0.6 s.
        #expect(statuses.contains(504), "\(statuses)")
    }

    /// A worker killed with requests in flight: those are answered 500, the worker restarts,
    /// and later requests are served again.
    @Test func aWorkerCrashAnswers500AndServingGoesOn() async throws {
        let server = try ServeProcess(["--model", "synthetic:median_ms=300,payload_bytes=16", "--no-telemetry", "--max-batch", "1"])
        defer { server.terminate() }
        let worker = try #require(server.workers.first)
        async let inFlight = infer(server, Array(repeating: 5, count: 16))
        try await Task.sleep(for: .milliseconds(100))
        kill(worker, SIGKILL)
        #expect(try await inFlight.status == 500)
        var served = false
        for _ in 0..<100 where !served {
            served = try await infer(server, Array(repeating: 6, count: 16)).status == 200
            if !served { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(served, "\(server.stderr)")
    }

    /// `load --target` against `serve`: the scenario runs, nothing fails, the setup records the
    /// server, and the breakdown carries the server's own time from its statistics.
    @Test(arguments: ["json", "binary"]) func loadTargetMeasuresServe(encoding: String) async throws {
        let server = try ServeProcess(Self.model + ["--max-batch", "4"])
        defer { server.terminate() }
        let out = CLI.temporaryDirectory()
        let r = try CLI.run([
            "load", "--target", server.url, "--tensor-encoding", encoding, "--concurrency", "4", "--duration", "2s", "--quiet", "--no-telemetry", "--out",
            out.path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let results = try CLI.results(in: out)
        let target = try #require((results["load"] as? [String: Any])?["target"] as? [String: Any])
        #expect(target["server"] as? String == "inferbench" && target["encoding"] as? String == encoding && target["protocol"] as? String == "oip-rest")
        let step = try #require((results["load_tests"] as? [[String: Any]])?.first)
        #expect(step["errors"] as? Int == 0 && (step["completed"] as? Int ?? 0) > 100, "\(step)")
        let breakdown = try #require(step["breakdown_ms"] as? [String: Any])
        let serverMS = try #require(breakdown["server"] as? Double)
        let p50 = try #require((step["latency_ms"] as? [String: Any])?["p50"] as? Double)
        // The server's time is part of what the client saw, and at least the 2 ms call.
        #expect(serverMS >= 2 && serverMS < p50 * 1.5, "server \(serverMS) ms, client P50 \(p50) ms")
        let report = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(report.contains("Open Inference Protocol"), "\(report.prefix(800))")
    }

    /// `load --target --payload-file`: inferbench reads .npy and np.savez archives itself and
    /// sends their samples, cast to the input's datatype; a shape the server's model does not
    /// take, or a compressed archive, is exit 64 naming the fix.
    @Test func loadTargetSendsThePayloadFilesSamples() async throws {
        let server = try ServeProcess(Self.model)
        defer { server.terminate() }
        let dir = CLI.temporaryDirectory()
        let made = try CLI.runPython(
            "import numpy as np, sys; d = sys.argv[1]; rows = (np.arange(5 * 16) % 251).reshape(5, 16)\n"
                + "np.save(d + '/rows.npy', rows.astype(np.int64)); np.savez(d + '/rows.npz', input0=rows.astype(np.uint8))\n"
                + "np.savez_compressed(d + '/packed.npz', input0=rows.astype(np.uint8)); np.save(d + '/short.npy', rows[:, :15])",
            [dir.path])
        try #require(made == 0)
        for file in ["rows.npy", "rows.npz"] {
            let out = CLI.temporaryDirectory()
            let r = try CLI.run([
                "load", "--target", server.url, "--payload-file", dir.appending(path: file).path, "--concurrency", "2", "--duration", "1s",
                "--quiet", "--no-telemetry", "--out", out.path,
            ])
            #expect(r.status == 0, "\(file): \(r.stderr)")
            let results = try CLI.results(in: out)
            #expect(((results["load"] as? [String: Any])?["payload_file"] as? String)?.hasSuffix(file) == true)
            let step = try #require((results["load_tests"] as? [[String: Any]])?.first)
            #expect(step["errors"] as? Int == 0 && (step["completed"] as? Int ?? 0) > 10, "\(file): \(step)")
        }
        for (file, words) in [("short.npy", "takes [N, 16]"), ("packed.npz", "np.savez")] {
            let r = try CLI.run(["load", "--target", server.url, "--payload-file", dir.appending(path: file).path, "--qps", "10", "--duration", "1s"])
            #expect(r.status == 64, "\(file): \(r.stderr)")
            #expect(r.stderr.contains(words), "\(file): \(r.stderr)")
        }
    }

    /// SIGTERM to the server in the middle of a test: the server stops gracefully (exit 0),
    /// and every request the client sent ends as an answer or a counted error of its kind.
    @Test func sigtermDuringLoadLosesNoRequest() async throws {
        let server = try ServeProcess(Self.model + ["--max-batch", "4"])
        defer { server.terminate() }
        let out = CLI.temporaryDirectory()
        let url = server.url
        let load = Task.detached {
            try CLI.run(
                [
                    "load", "--target", url, "--qps", "100", "--duration", "6s", "--request-timeout", "5", "--quiet", "--no-telemetry", "--out", out.path,
                ], timeout: 120)
        }
        // SIGTERM once the load is under way: 150 requests answered (its first check and 1.5 s of
        // the 6 s test), read off the server's own count, not after a fixed sleep (a busy
        // machine can take longer than any sleep to start the load).
        let underWay = Date().addingTimeInterval(90)
        while Date() < underWay, try await Self.answered(server) < 150 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(server.terminate() == 0, "\(server.stderr)")
        #expect(server.stderr.contains("stopping: requests in flight were answered"), "\(server.stderr)")
        let r = try await load.value
        #expect(r.status == 2, "\(r.stderr)")
        let step = try #require((try CLI.results(in: out)["load_tests"] as? [[String: Any]])?.first)
        let (sent, completed, errors, dropped) = (
            step["sent"] as? Int ?? 0, step["completed"] as? Int ?? 0, step["errors"] as? Int ?? 0, step["dropped"] as? Int ?? 0
        )
        #expect(sent == completed + errors + dropped && completed > 100 && errors > 0, "\(step)")
        let kinds = try #require(step["error_kinds"] as? [String: Int])
        #expect(Set(kinds.keys).isSubset(of: ["connection", "overloaded"]), "\(kinds)")
        #expect(r.stderr.contains("by kind: connection"), "\(r.stderr)")
    }

    /// Requests `serve` has answered ok so far, from its /metrics.
    static func answered(_ server: ServeProcess) async throws -> Int {
        let metrics = String(decoding: try await HTTP.send("GET", "\(server.url)/metrics").body, as: UTF8.self)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"inferbench_requests_total{model="synthetic",outcome="ok"}"#) }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
    }

    /// A target that cannot be reached, one that does not speak the protocol, a model it does
    /// not serve, and in-process flags beside --target: one line naming the fix, its exit code.
    @Test func badTargetsAreRefusedWithTheirExitCodes() async throws {
        let closed = try CLI.run(["load", "--target", "http://127.0.0.1:9", "--qps", "10", "--duration", "1s"], timeout: 120)
        #expect(closed.status == 4 && closed.stderr.contains("cannot reach the server"), "\(closed.stderr)")
        let flags = try CLI.run(["load", "--target", "http://127.0.0.1:9", "--model", "resnet50", "--qps", "10"])
        #expect(flags.status == 64 && flags.stderr.contains("--model"), "\(flags.stderr)")
        let server = try ServeProcess(Self.model)
        defer { server.terminate() }
        let unknown = try CLI.run(["load", "--target", server.url, "--model-name", "resnet50", "--qps", "10", "--duration", "1s"])
        #expect(unknown.status == 64 && unknown.stderr.contains("serves no such model (it serves synthetic)"), "\(unknown.stderr)")
        let notOIP = try CLI.run(["load", "--target", "\(server.url)/metrics", "--qps", "10", "--duration", "1s"])
        #expect(notOIP.status == 64 && notOIP.stderr.contains("not an Open Inference Protocol"), "\(notOIP.stderr)")
    }
}
