import Foundation

/// Starts real Python workers: finds the interpreter, unpacks the worker package,
/// spawns the process and says hello.
public struct WorkerLauncher: Sendable {
    public var python: String
    public var logDirectory: URL
    public var extraEnvironment: [String: String]
    public var timeouts: WorkerTimeouts
    /// With `--pin`, each worker's own CPUs.
    public var pinning: CPUPinning?

    public init(python: String, logDirectory: URL, extraEnvironment: [String: String] = [:], timeouts: WorkerTimeouts = WorkerTimeouts()) {
        self.python = python
        self.logDirectory = logDirectory
        self.extraEnvironment = extraEnvironment
        self.timeouts = timeouts
    }

    /// A started worker that has answered `hello`.
    public func start(label: String) async throws(InferbenchError) -> (Worker, HelloResult) {
        let pythonPath = try WorkerSource.pythonPath()
        var environment = extraEnvironment
        let existing = ProcessInfo.processInfo.environment["PYTHONPATH"].map { ":" + $0 } ?? ""
        environment["PYTHONPATH"] = pythonPath + existing
        environment["PYTHONUNBUFFERED"] = "1"
        if let pinning { environment["INFERBENCH_CPUS"] = pinning.take() }
        // CUDA's device numbers then match NVML's, so cuda:N's telemetry is GPU N's.
        if ProcessInfo.processInfo.environment["CUDA_DEVICE_ORDER"] == nil { environment["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID" }
        let safeLabel = label.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
        let log = logDirectory.appending(path: "worker-\(String(safeLabel))-\(UUID().uuidString.prefix(8)).log")
        let channel: ProcessWorkerChannel
        do {
            channel = try ProcessWorkerChannel(
                executable: python, arguments: ["-m", "inferbench_worker"], environment: environment, logURL: log)
        } catch {
            throw .environment("cannot start the worker with \(python): \(error)")
        }
        let worker = Worker(channel: channel, timeouts: timeouts)
        do {
            let hello = try await worker.hello()
            return (worker, hello)
        } catch {
            await worker.kill()
            throw .environment("the Python at \(python) did not start the worker: \(WorkerError.describe(error)). Log: \(log.path)")
        }
    }
}

extension WorkerError {
    /// One line for a user.
    public static func describe(_ error: WorkerError) -> String {
        switch error {
        case .reply(let payload): return "\(payload.kind.rawValue): \(payload.message)"
        case .failure(let failure): return failure.summary
        }
    }
}

extension WorkerFailure {
    /// One line (plus the stderr tail where there is one) for a user.
    public var summary: String {
        switch self {
        case .couldNotStart(let why): return "could not start the worker: \(why)"
        case .exited(let status, let tail):
            return "the worker died (\(status))" + (tail.isEmpty ? "" : "; its last words: \(tail.split(separator: "\n").last ?? "")")
        case .timedOut(let op, let seconds, _):
            return "the worker did not answer `\(op)` within \(Int(seconds)) s and was killed; raise --timeout if the model is just slow"
        case .protocolViolation(let why): return "protocol error: \(why)"
        }
    }
}
