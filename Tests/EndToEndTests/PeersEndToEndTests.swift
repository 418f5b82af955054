import Foundation
import Testing

/// `serve` and `load --target` against real peers of the protocol, from `.venv-peers`
/// (`make setup` makes it): the official Triton HTTP client, and a KServe model server.
/// Off CI, without that environment, these are skipped; on CI they must run.
@Suite(.serialized, .enabled(if: Peers.available)) struct PeersEndToEndTests {
    static let python = Peers.python

    static func script(_ name: String) -> String { CLI.packageRoot.appending(path: "python/peers/\(name)").path }

    /// Runs a peer script to its end; its exit status and what it printed.
    static func run(_ arguments: [String], timeout: TimeInterval = 120) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let killer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        killer.cancel()
        return (process.terminationStatus, text)
    }

    /// tritonclient[http] reads `serve`'s readiness and metadata and gets each request's own
    /// row back, with JSON and binary tensors in and out.
    @Test func tritonClientAgreesWithServe() throws {
        let server = try ServeProcess(["--model", "synthetic:median_ms=1,payload_bytes=16", "--no-telemetry"])
        defer { server.terminate() }
        let (status, text) = try Self.run([Self.script("triton_check.py"), "127.0.0.1:\(server.port)", "synthetic"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("4 inferences"), "\(text)")
    }

    /// A KServe model server as a foreign target: `load --target` finds its one model, builds
    /// requests from its metadata, and every answer checks out.
    @Test func loadTargetDrivesAKServeServer() async throws {
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Self.python)
        server.arguments = [Self.script("kserve_echo.py"), String(port)]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { Self.stop(server) }
        // KServe takes seconds to import and bind (longer on a busy machine): wait for it, so that
        // the 5 s inferbench gives an unreachable target is not what is tested here.
        var up = false
        for _ in 0..<240 where !up {
            up = (try? await HTTP.send("GET", "http://127.0.0.1:\(port)/v2/health/ready").status) == 200
            if !up { try await Task.sleep(for: .milliseconds(250)) }
        }
        try #require(up, "the KServe server did not turn ready within 60 s")
        let out = CLI.temporaryDirectory()
        let r = try CLI.run(
            [
                "load", "--target", "http://127.0.0.1:\(port)", "--concurrency", "4", "--duration", "3s", "--quiet", "--no-telemetry",
                "--out", out.path,
            ],
            timeout: 180)
        #expect(r.status == 0, "\(r.stderr)")
        let results = try CLI.results(in: out)
        let load = try #require(results["load"] as? [String: Any])
        #expect(load["model"] as? String == "echo")
        let target = try #require(load["target"] as? [String: Any])
        #expect((target["server"] as? String)?.lowercased().contains("kserve") == true, "\(target)")
        let step = try #require((results["load_tests"] as? [[String: Any]])?.first)
        #expect(step["errors"] as? Int == 0 && (step["completed"] as? Int ?? 0) > 20, "\(step)")
    }

    /// KServe's server can linger after SIGTERM: give it 5 s, then SIGKILL.
    static func stop(_ server: Process) {
        server.terminate()
        let deadline = Date().addingTimeInterval(5)
        while server.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if server.isRunning { kill(server.processIdentifier, SIGKILL) }
        server.waitUntilExit()
    }

    /// A port nothing listens on now (the kernel's pick, released).
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

enum Peers {
    static let python = CLI.packageRoot.appending(path: ".venv-peers/bin/python").path
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: python) || ProcessInfo.processInfo.environment["CI"] != nil
    }
}
