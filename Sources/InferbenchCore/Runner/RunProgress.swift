import Foundation

/// What the runner is doing now, for the progress line.
public struct RunProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        case starting = "starting worker"
        case load = "load+compile"
        case warmup = "warm-up"
        case measure
        case throughput
        case verify
        case done
        case failed
        /// Not run, or its figures set aside: the run was stopped.
        case skipped
    }
    public var cellIndex: Int
    public var cellCount: Int
    public var label: String
    public var phase: Phase
    public var iterations: Int
    /// Seconds in this phase so far.
    public var elapsed: Double
    /// Estimated seconds left in this phase, when there is an estimate.
    public var remaining: Double?
}

/// Starts workers for an environment; the real one is ``WorkerLauncher``, tests inject fakes.
public protocol WorkerStarter: Sendable {
    func start(label: String) async throws(InferbenchError) -> (Worker, HelloResult)
}

extension WorkerLauncher: WorkerStarter {}

/// Host facts recorded with every run.
public enum HostProbe {
    public static func current() -> HostInfo {
        let info = ProcessInfo.processInfo
        var cpu = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let value = line.split(separator: ":", maxSplits: 1).last
        {
            cpu = value.trimmingCharacters(in: .whitespaces)
        }
        return HostInfo(
            hostname: info.hostName, os: info.operatingSystemVersionString, cpu: cpu,
            cores: info.activeProcessorCount, memoryMB: Double(info.physicalMemory) / 1_048_576)
    }
}
