import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Cumulative CPU time of the whole machine, in clock ticks, from the `cpu` line of /proc/stat.
public struct CPUTimes: Sendable, Equatable {
    /// user + nice + system + irq + softirq + steal (guest time is already inside user and nice).
    public var busy: UInt64
    /// busy + idle + iowait.
    public var total: UInt64

    public init(busy: UInt64, total: UInt64) {
        self.busy = busy
        self.total = total
    }
}

/// CPU time of one process, in clock ticks, and its start time (which tells a reused pid apart).
public struct ProcessTimes: Sendable, Equatable {
    public var ticks: UInt64
    public var startTime: UInt64
}

/// Pure parsers for the /proc files the host sampler reads, so they can be tested on recorded text.
///
/// Not an error: text that does not parse gives nil (a process that exited between listing and
/// reading, a kernel thread without VmRSS, an older kernel with fewer /proc/stat columns).
public enum ProcParser {
    /// The aggregate `cpu` line (the first line) of /proc/stat.
    public static func cpuTimes(stat text: some StringProtocol) -> CPUTimes? {
        guard let line = text.split(separator: "\n", maxSplits: 1).first, line.hasPrefix("cpu ") else { return nil }
        let v = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard v.count >= 4 else { return nil }
        func at(_ i: Int) -> UInt64 { i < v.count ? v[i] : 0 }
        // user nice system idle iowait irq softirq steal guest guest_nice
        let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7)
        return CPUTimes(busy: busy, total: busy + at(3) + at(4))
    }

    /// utime + stime (fields 14 and 15) and starttime (field 22) of /proc/PID/stat. The command
    /// name (field 2) may hold spaces and parentheses, so fields are counted after the last `)`.
    public static func processTimes(stat text: some StringProtocol) -> ProcessTimes? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        guard fields.count > 19, let utime = UInt64(fields[11]), let stime = UInt64(fields[12]), let start = UInt64(fields[19]) else { return nil }
        return ProcessTimes(ticks: utime + stime, startTime: start)
    }

    /// VmRSS of /proc/PID/status, in MiB.
    public static func rssMB(status text: some StringProtocol) -> Double? {
        kibibytes(named: ["VmRSS:"], in: text)[0].map { $0 / 1024 }
    }

    /// (MemTotal − MemAvailable, MemTotal) of /proc/meminfo, in MiB.
    public static func memory(meminfo text: some StringProtocol) -> (usedMB: Double, totalMB: Double)? {
        let values = kibibytes(named: ["MemTotal:", "MemAvailable:"], in: text)
        guard let total = values[0], let available = values[1] else { return nil }
        return ((total - available) / 1024, total / 1024)
    }

    /// Percent of all cores busy between two readings; nil when the counters did not move.
    public static func cpuUtil(from a: CPUTimes, to b: CPUTimes) -> Double? {
        guard b.total > a.total, b.busy >= a.busy else { return nil }
        return min(100, Double(b.busy - a.busy) / Double(b.total - a.total) * 100)
    }

    /// Percent of one core: `ticks` of CPU time over `seconds` of wall time.
    public static func processUtil(ticks: UInt64, seconds: Double, ticksPerSecond: Double) -> Double? {
        guard seconds > 0, ticksPerSecond > 0 else { return nil }
        return Double(ticks) / ticksPerSecond / seconds * 100
    }

    /// The numbers after `keys` (at line starts) in /proc's `Key:   1234 kB` files, in one pass
    /// over the bytes that stops once all are found: this runs ten times a second, and
    /// splitting meminfo into lines cost more than reading it.
    static func kibibytes(named keys: [String], in text: some StringProtocol) -> [Double?] {
        let bytes = Array(text.utf8)
        let wanted = keys.map { Array($0.utf8) }
        var found = [Double?](repeating: nil, count: keys.count)
        var remaining = keys.count
        var i = 0
        while i < bytes.count, remaining > 0 {
            if let k = wanted.indices.first(where: { found[$0] == nil && bytes[i...].starts(with: wanted[$0]) }) {
                var j = i + wanted[k].count
                while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
                var value: UInt64 = 0
                let start = j
                while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") {
                    value = value &* 10 &+ UInt64(bytes[j] - UInt8(ascii: "0"))
                    j += 1
                }
                if j > start {
                    found[k] = Double(value)
                    remaining -= 1
                }
            }
            while i < bytes.count, bytes[i] != UInt8(ascii: "\n") { i += 1 }
            i += 1
        }
        return found
    }
}

/// Reads the host from /proc and turns cumulative counters into rates between readings.
///
/// A value type owned by the one thread that samples. Not an error: a watched pid that does
/// not exist (yet, or any more) is skipped; a pid seen for the first time contributes CPU
/// from its second reading on, and so does one whose start time changed (the pid was reused).
public struct HostSampler: Sendable {
    public let procRoot: String
    let ticksPerSecond: Double
    private var lastCPU: CPUTimes?
    private var lastCPUUtil: Double?
    private var lastProcess: [Int32: (times: ProcessTimes, t: Double)] = [:]

    /// `procRoot` is /proc; tests point it at a folder of recorded files.
    public init(procRoot: String = "/proc") {
        self.procRoot = procRoot
        ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// One reading at monotonic time `t` of the machine and of the watched `pids`.
    public mutating func sample(pids: [Int32], at t: Double) -> HostSample {
        var sample = HostSample(t: t)
        if let cpu = Self.readProcFile("\(procRoot)/stat", limit: 4096).flatMap({ ProcParser.cpuTimes(stat: $0) }) {
            // /proc/stat counts in clock ticks (10 ms): two reads closer than a tick see no
            // change. Keep the older reading then, so the next sample spans a tick, and repeat
            // the last utilization rather than leave a gap.
            if let last = lastCPU, let util = ProcParser.cpuUtil(from: last, to: cpu) {
                sample.cpuUtil = util
                lastCPUUtil = util
                lastCPU = cpu
            } else {
                sample.cpuUtil = lastCPU == nil ? nil : lastCPUUtil
                if lastCPU == nil { lastCPU = cpu }
            }
        }
        if let memory = Self.readProcFile("\(procRoot)/meminfo", limit: 8192).flatMap({ ProcParser.memory(meminfo: $0) }) {
            sample.memUsedMB = memory.usedMB
            sample.memTotalMB = memory.totalMB
        }
        var seen: [Int32: (times: ProcessTimes, t: Double)] = [:]
        var util: Double?
        var rss: Double?
        for pid in Set(pids) {
            guard let times = Self.readProcFile("\(procRoot)/\(pid)/stat", limit: 4096).flatMap({ ProcParser.processTimes(stat: $0) }) else { continue }
            seen[pid] = (times, t)
            if let last = lastProcess[pid], last.times.startTime == times.startTime, times.ticks >= last.times.ticks,
                let u = ProcParser.processUtil(ticks: times.ticks - last.times.ticks, seconds: t - last.t, ticksPerSecond: ticksPerSecond)
            {
                util = (util ?? 0) + u
            }
            if let r = Self.readProcFile("\(procRoot)/\(pid)/status", limit: 8192).flatMap({ ProcParser.rssMB(status: $0) }) {
                rss = (rss ?? 0) + r
            }
        }
        lastProcess = seen
        sample.processCPUUtil = util
        sample.processRSSMB = rss
        return sample
    }

    /// The first `limit` bytes of a /proc file with one open/read/close (no Foundation
    /// buffering: this runs ten times a second). Nil when the file cannot be opened.
    static func readProcFile(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, limit - filled) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        return String(decoding: buffer[..<filled], as: UTF8.self)
    }
}
