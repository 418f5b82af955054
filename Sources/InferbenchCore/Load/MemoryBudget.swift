import Foundation

/// Whether N workers fit in the machine's memory, judged before any of them starts.
///
/// A load test starts one Python process per replica; each holds PyTorch (about half a GB on
/// a CPU before any model), the model and its compiled code. Starting more than the machine
/// holds ends in the kernel's OOM killer half-way through the start-up, so the estimate comes
/// first: the probe worker's resident memory (PyTorch imported, no model yet), plus half of
/// it again for the model and compilation, times the workers on this host.
public struct MemoryBudget: Sendable, Equatable {
    public var workers: Int
    /// Estimated resident memory of one worker, MiB.
    public var perWorkerMB: Double
    /// MemAvailable of /proc/meminfo, MiB.
    public var availableMB: Double

    public var totalMB: Double { Double(workers) * perWorkerMB }

    public init(workers: Int, perWorkerMB: Double, availableMB: Double) {
        self.workers = workers
        self.perWorkerMB = perWorkerMB
        self.availableMB = availableMB
    }

    /// From the probe worker's pid and this machine's /proc; nil where /proc is not there.
    public static func estimate(workers: Int, probePID: Int32?) -> MemoryBudget? {
        guard let probePID, let status = try? String(contentsOfFile: "/proc/\(probePID)/status", encoding: .utf8),
            let rss = ProcParser.rssMB(status: status), let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let memory = ProcParser.memory(meminfo: meminfo)
        else { return nil }
        return MemoryBudget(workers: workers, perWorkerMB: rss * 1.5, availableMB: memory.totalMB - memory.usedMB)
    }

    public enum Verdict: Sendable, Equatable {
        case fits
        /// Over 80% of what is free: start, but say so.
        case tight
        case exceeds
    }

    public var verdict: Verdict {
        if totalMB > availableMB { return .exceeds }
        return totalMB > 0.8 * availableMB ? .tight : .fits
    }

    /// "50 workers × ~820 MB ≈ 41,000 MB, but 22,900 MB is free".
    public var summary: String {
        "\(workers) worker\(workers == 1 ? "" : "s") × ~\(Int(perWorkerMB.rounded())) MB ≈ \(Int(totalMB.rounded())) MB, with \(Int(availableMB.rounded())) MB free"
    }
}
