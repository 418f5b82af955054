import Foundation

/// Runs the built `inferbench` binary and captures what it printed.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["INFERBENCH_BIN"] { return URL(fileURLWithPath: path) }
        for config in ["debug", "release"] {
            let url = packageRoot.appending(path: ".build/\(config)/inferbench")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appending(path: ".build/debug/inferbench")
    }

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "inferbench-e2e-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Starts the binary; `whileRunning` gets its pid (to signal it) before the pipes are drained.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 600,
        whileRunning: (@Sendable (Int32) -> Void)? = nil
    ) throws -> CLIResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        // Never record test runs in the real ~/.inferbench store: each call gets its own, unless given one.
        env["INFERBENCH_STORE"] = temporaryDirectory().appending(path: "store.sqlite").path
        // The design width, whatever terminal the tests were started from.
        env["COLUMNS"] = "100"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        if let whileRunning { DispatchQueue.global().async { whileRunning(pid) } }
        // Drain both pipes before waiting, or a chatty child blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave()
        }
        group.wait()
        process.waitUntilExit()
        killer.cancel()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The Python the binary will pick (as it does: `$INFERBENCH_PYTHON`, the project's `.venv`,
    /// `python3`), for tests that prepare files with PyTorch themselves.
    static var python: String {
        if let path = ProcessInfo.processInfo.environment["INFERBENCH_PYTHON"], !path.isEmpty { return path }
        let venv = packageRoot.appending(path: ".venv/bin/python")
        return FileManager.default.isExecutableFile(atPath: venv.path) ? venv.path : "python3"
    }

    /// Runs `python -c script arguments...` and returns its exit status (output goes to the test log).
    static func runPython(_ script: String, _ arguments: [String] = []) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script] + arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func results(in directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appending(path: "results.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Child pids of `pid` (the worker runs in its own process group, but is still our child).
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task -> [Int32] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0) }
        }
    }

    /// Waits until `results.json` in `directory` holds at least `cells` cells.
    static func waitForCells(_ cells: Int, in directory: URL, timeout: TimeInterval = 120) {
        waitForEntries(cells, of: "cells", in: directory, timeout: timeout)
    }

    /// Waits until `results.json` in `directory` lists at least `count` items under `key`.
    static func waitForEntries(_ count: Int, of key: String, in directory: URL, timeout: TimeInterval = 120) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let json = try? results(in: directory), let list = json[key] as? [Any], list.count >= count { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}
