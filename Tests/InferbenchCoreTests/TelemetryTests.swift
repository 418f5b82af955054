import Foundation
import Testing

@testable import InferbenchCore

/// /proc text recorded on a 2-core Linux VM (kernel 6.x), trimmed.
enum RecordedProc {
    static let stat1 = """
        cpu  92692 0 8754 188886 865 0 279 128 0 0
        cpu0 46210 0 4400 94500 430 0 140 64 0 0
        cpu1 46482 0 4354 94386 435 0 139 64 0 0
        intr 4096001 0 9 0 0 0 0 0 0 0 0 0 0 156 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
        ctxt 9876543
        btime 1764158000

        """
    /// One second later: 150 ticks busy (user, system, softirq, steal), 50 idle, 0 iowait.
    static let stat2 = """
        cpu  92792 0 8794 188936 865 0 284 133 0 0
        cpu0 46260 0 4420 94525 430 0 143 66 0 0

        """
    static let pidStat1 =
        "4242 (python3 (inferbench) worker) S 1 4242 4242 0 -1 4194560 7665 782431 0 12 1500 300 2552 273 20 0 9 0 98957 5263360 959 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
    /// 0.5 s later: utime +60, stime +15 ticks (at 100 ticks/s: 0.75 s of CPU in 0.5 s = 150% of a core).
    static let pidStat2 =
        "4242 (python3 (inferbench) worker) R 1 4242 4242 0 -1 4194560 7665 782431 0 12 1560 315 2552 273 20 0 9 0 98957 5263360 959 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
    static let status = """
        Name:\tpython3
        Umask:\t0022
        State:\tS (sleeping)
        Pid:\t4242
        VmPeak:\t 4194304 kB
        VmSize:\t 4100000 kB
        VmHWM:\t 1100000 kB
        VmRSS:\t 1048576 kB
        RssAnon:\t  900000 kB
        Threads:\t9

        """
    static let meminfo = """
        MemTotal:       24731708 kB
        MemFree:        15307108 kB
        MemAvailable:   24216380 kB
        Buffers:          100000 kB

        """
}

@Suite struct TelemetryProcTests {
    @Test func procStatGivesBusyAndTotalTicks() throws {
        let a = try #require(ProcParser.cpuTimes(stat: RecordedProc.stat1))
        #expect(a.busy == 92692 + 8754 + 279 + 128)
        #expect(a.total == a.busy + 188886 + 865)
        let b = try #require(ProcParser.cpuTimes(stat: RecordedProc.stat2))
        #expect(ProcParser.cpuUtil(from: a, to: b) == 75)
        #expect(ProcParser.cpuUtil(from: b, to: b) == nil, "no ticks passed: no figure, not 0 or NaN")
    }

    @Test func olderKernelsWithFewerColumnsStillParse() throws {
        let t = try #require(ProcParser.cpuTimes(stat: "cpu  100 0 50 850\n"))
        #expect(t.busy == 150 && t.total == 1000)
        #expect(ProcParser.cpuTimes(stat: "intr 1 2 3\n") == nil)
        #expect(ProcParser.cpuTimes(stat: "") == nil)
    }

    @Test func processStatIsCountedAfterTheCommandNameEvenWithParentheses() throws {
        let a = try #require(ProcParser.processTimes(stat: RecordedProc.pidStat1))
        #expect(a.ticks == 1800)
        #expect(a.startTime == 98957)
        let b = try #require(ProcParser.processTimes(stat: RecordedProc.pidStat2))
        #expect(ProcParser.processUtil(ticks: b.ticks - a.ticks, seconds: 0.5, ticksPerSecond: 100) == 150)
        #expect(ProcParser.processTimes(stat: "4242 (gone") == nil)
    }

    @Test func statusAndMeminfoGiveMiB() throws {
        #expect(ProcParser.rssMB(status: RecordedProc.status) == 1024)
        #expect(ProcParser.rssMB(status: "Name:\tkthreadd\nState:\tS (sleeping)\n") == nil, "kernel threads have no VmRSS")
        let memory = try #require(ProcParser.memory(meminfo: RecordedProc.meminfo))
        #expect(abs(memory.totalMB - 24152.06) < 0.01)
        #expect(abs(memory.usedMB - (24731708 - 24216380) / 1024) < 1e-9)
    }

    @Test func hostSamplerTakesDifferencesFromRecordedFiles() throws {
        let root = FileManager.default.temporaryDirectory.appending(path: "inferbench-proc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appending(path: "4242"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        func write(_ text: String, _ path: String) throws { try text.write(to: root.appending(path: path), atomically: true, encoding: .utf8) }
        try write(RecordedProc.stat1, "stat")
        try write(RecordedProc.meminfo, "meminfo")
        try write(RecordedProc.pidStat1, "4242/stat")
        try write(RecordedProc.status, "4242/status")
        var host = HostSampler(procRoot: root.path)
        let first = host.sample(pids: [4242, 999_999], at: 100)
        #expect(first.cpuUtil == nil && first.processCPUUtil == nil, "rates need a previous reading")
        #expect(first.processRSSMB == 1024, "the pid that does not exist is skipped")
        #expect(first.memTotalMB != nil)
        try write(RecordedProc.stat2, "stat")
        try write(RecordedProc.pidStat2, "4242/stat")
        let second = host.sample(pids: [4242], at: 100.5)
        #expect(second.cpuUtil == 75)
        let expected = 75 / host.ticksPerSecond / 0.5 * 100
        #expect(abs((second.processCPUUtil ?? 0) - expected) < 1e-9)
        // The pid was reused by another process (new start time): no rate from the old one's counters.
        try write(RecordedProc.pidStat1.replacingOccurrences(of: " 98957 ", with: " 99999 "), "4242/stat")
        #expect(host.sample(pids: [4242], at: 101).processCPUUtil == nil)
        #expect(host.sample(pids: [], at: 101.5).processRSSMB == nil, "no watched pid: no figure")
    }
}

@Suite struct TelemetryThrottleTests {
    @Test func reasonsAreNamedAndOnlyRealOnesCountAsThrottling() {
        let capped = ThrottleReasons(rawValue: 0x4 | 0x40)
        #expect(capped.names == ["SwPowerCap", "HwThermalSlowdown"])
        #expect(capped.isThrottling)
        for bit: UInt64 in [0x4, 0x8, 0x20, 0x40, 0x80] { #expect(ThrottleReasons(rawValue: bit).isThrottling, "0x\(String(bit, radix: 16))") }
        let benign = ThrottleReasons(rawValue: 0x1 | 0x2 | 0x10 | 0x100)
        #expect(benign.names == ["GpuIdle", "ApplicationsClocksSetting", "SyncBoost", "DisplayClockSetting"])
        #expect(!benign.isThrottling)
        #expect(ThrottleReasons(rawValue: 0x1000).names == ["Unknown(0x1000)"])
        #expect(!ThrottleReasons(rawValue: 0x1000).isThrottling)
        #expect(ThrottleReasons(rawValue: 0).names.isEmpty)
        #expect(ThrottleReasons(names: ["SwPowerCap", "HwThermalSlowdown", "Nonsense"]) == capped)
    }
}

@Suite struct TelemetryNoGPUTests {
    @Test func openingABogusLibrarySaysWhy() {
        switch NVML.open(path: "/nonexistent/libnvidia-ml.so.1") {
        case .success: Issue.record("a library that does not exist cannot open")
        case .failure(let why):
            #expect(why.reason.contains("/nonexistent/libnvidia-ml.so.1"))
            #expect(why.reason.contains("no NVIDIA driver library"))
            // dlerror repeats the path; the one line a GPU machine without NVML prints names it once.
            #expect(why.reason.components(separatedBy: "/nonexistent/libnvidia-ml.so.1").count == 2, "\(why.reason)")
        }
    }

    @Test func theMissingLibraryIsNamedOnce() {
        let line = NVML.missingLibrary(
            path: "libnvidia-ml.so.1", dlerror: "libnvidia-ml.so.1: cannot open shared object file: No such file or directory")
        #expect(line == "no NVIDIA driver library (libnvidia-ml.so.1): cannot open shared object file: No such file or directory")
    }
}
