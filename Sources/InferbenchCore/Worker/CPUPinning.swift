import Foundation

/// Hands each started worker its own block of CPUs (`--pin`), leaving the first allowed CPU to
/// inferbench's threads (the generator, the sampler, the channel readers). Blocks are given in
/// turn: the workers alive at once (a sweep's lanes) get disjoint blocks.
public final class CPUPinning: @unchecked Sendable {
    public let blocks: [[Int]]
    private var next = 0
    private let lock = NSLock()

    /// `cpus`: the CPUs this process may use; `workers`: how many run side by side.
    public init?(cpus: [Int], workers: Int) {
        let usable = cpus.count > 2 ? Array(cpus.dropFirst()) : cpus
        guard !usable.isEmpty, workers >= 1 else { return nil }
        let size = max(1, usable.count / workers)
        blocks = stride(from: 0, to: min(usable.count, size * workers), by: size).map { Array(usable[$0..<min($0 + size, usable.count)]) }
    }

    /// The next block, as a CPU list for `INFERBENCH_CPUS` ("2,3,4").
    public func take() -> String {
        lock.lock()
        defer { lock.unlock() }
        let block = blocks[next % blocks.count]
        next += 1
        return block.map(String.init).joined(separator: ",")
    }

    /// The CPUs this process may run on (`Cpus_allowed_list` in /proc/self/status), or all of them.
    public static func allowedCPUs() -> [Int] {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let cpus = parseList(String(line.dropFirst("Cpus_allowed_list:".count))), !cpus.isEmpty
        {
            return cpus
        }
        return Array(0..<ProcessInfo.processInfo.activeProcessorCount)
    }

    /// "0-3,6" → [0, 1, 2, 3, 6]; nil when it does not parse.
    public static func parseList(_ text: String) -> [Int]? {
        var out: [Int] = []
        for part in text.trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let ends = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            if ends.count == 1, let a = ends[0] {
                out.append(a)
            } else if ends.count == 2, let a = ends[0], let b = ends[1], a <= b {
                out.append(contentsOf: a...b)
            } else {
                return nil
            }
        }
        return out
    }

    /// torch's threads when none are asked for: the CPUs a worker may use, less one on small
    /// machines (up to 8) so that inferbench's own threads do not preempt the measured ones.
    public static func defaultThreads(cpus: Int) -> Int { cpus <= 8 ? max(1, cpus - 1) : cpus }
}
