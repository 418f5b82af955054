/// One reading of one GPU through NVML, stamped with ``Monotonic/now()``.
///
/// Not an error: any field may be nil. NVML answers "not supported" for some queries on some
/// GPUs (energy before Volta, PCIe throughput in some VMs, power on some boards); the reading
/// keeps what it got. ``pcieTxKBs`` and ``pcieRxKBs`` are nil unless the sampler was asked for
/// them, because NVML blocks for 20 ms to measure them.
public struct GPUSample: Codable, Sendable, Equatable {
    /// Seconds on the monotonic clock when this GPU was read.
    public var t: Double
    /// NVML index (PCI bus order, which is not always CUDA's order: see docs/telemetry.md).
    public var gpu: Int
    /// Percent of the last sample period (1/6 s to 1 s, by GPU) in which a kernel ran.
    public var smUtil: Double?
    /// Percent of the last sample period in which device memory was read or written.
    public var memUtil: Double?
    public var memUsedMB: Double?
    public var memTotalMB: Double?
    public var powerW: Double?
    public var powerLimitW: Double?
    /// Energy since the driver loaded, in joules: a counter, so differences are what matter.
    public var energyJ: Double?
    public var tempC: Double?
    public var smClockMHz: Double?
    public var memClockMHz: Double?
    /// NVML clocks-event (throttle) reason bits; decode with ``ThrottleReasons``.
    public var throttleReasons: UInt64?
    public var pcieTxKBs: Double?
    public var pcieRxKBs: Double?

    public init(
        t: Double, gpu: Int, smUtil: Double? = nil, memUtil: Double? = nil, memUsedMB: Double? = nil,
        memTotalMB: Double? = nil, powerW: Double? = nil, powerLimitW: Double? = nil, energyJ: Double? = nil,
        tempC: Double? = nil, smClockMHz: Double? = nil, memClockMHz: Double? = nil, throttleReasons: UInt64? = nil,
        pcieTxKBs: Double? = nil, pcieRxKBs: Double? = nil
    ) {
        self.t = t
        self.gpu = gpu
        self.smUtil = smUtil
        self.memUtil = memUtil
        self.memUsedMB = memUsedMB
        self.memTotalMB = memTotalMB
        self.powerW = powerW
        self.powerLimitW = powerLimitW
        self.energyJ = energyJ
        self.tempC = tempC
        self.smClockMHz = smClockMHz
        self.memClockMHz = memClockMHz
        self.throttleReasons = throttleReasons
        self.pcieTxKBs = pcieTxKBs
        self.pcieRxKBs = pcieRxKBs
    }

    enum CodingKeys: String, CodingKey {
        case t, gpu
        case smUtil = "sm_util"
        case memUtil = "mem_util"
        case memUsedMB = "mem_used_mb"
        case memTotalMB = "mem_total_mb"
        case powerW = "power_w"
        case powerLimitW = "power_limit_w"
        case energyJ = "energy_j"
        case tempC = "temp_c"
        case smClockMHz = "sm_clock_mhz"
        case memClockMHz = "mem_clock_mhz"
        case throttleReasons = "throttle_reasons"
        case pcieTxKBs = "pcie_tx_kbs"
        case pcieRxKBs = "pcie_rx_kbs"
    }
}

/// One reading of the host from /proc, stamped with ``Monotonic/now()``.
///
/// Not an error: ``cpuUtil`` is nil until there is a previous reading to take a difference
/// from; the process fields are nil while no pid is watched or every watched pid has exited.
public struct HostSample: Codable, Sendable, Equatable {
    public var t: Double
    /// Whole machine, percent of all cores (100 = every core busy), from /proc/stat.
    public var cpuUtil: Double?
    /// Watched processes, percent of one core (250 = two and a half cores), from /proc/PID/stat.
    public var processCPUUtil: Double?
    /// Resident memory of the watched processes, summed, from /proc/PID/status VmRSS.
    public var processRSSMB: Double?
    /// Machine memory in use (MemTotal − MemAvailable) and in all, from /proc/meminfo.
    public var memUsedMB: Double?
    public var memTotalMB: Double?

    public init(
        t: Double, cpuUtil: Double? = nil, processCPUUtil: Double? = nil, processRSSMB: Double? = nil, memUsedMB: Double? = nil, memTotalMB: Double? = nil
    ) {
        self.t = t
        self.cpuUtil = cpuUtil
        self.processCPUUtil = processCPUUtil
        self.processRSSMB = processRSSMB
        self.memUsedMB = memUsedMB
        self.memTotalMB = memTotalMB
    }

    enum CodingKeys: String, CodingKey {
        case t
        case cpuUtil = "cpu_util"
        case processCPUUtil = "process_cpu_util"
        case processRSSMB = "process_rss_mb"
        case memUsedMB = "mem_used_mb"
        case memTotalMB = "mem_total_mb"
    }
}

/// NVML's clocks-event ("throttle") reason bits, with names and what counts as throttling.
///
/// Not throttling: ``gpuIdle`` (clocks drop because nothing runs), ``applicationsClocksSetting``
/// (someone pinned the clocks), ``syncBoost`` (clocks matched to another GPU) and
/// ``displayClockSetting``. They are still named, because an idle GPU during a benchmark is
/// worth knowing. Bits NVML may add later are named `Unknown(0x…)` and do not count.
public struct ThrottleReasons: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let gpuIdle = ThrottleReasons(rawValue: 0x1)
    public static let applicationsClocksSetting = ThrottleReasons(rawValue: 0x2)
    public static let swPowerCap = ThrottleReasons(rawValue: 0x4)
    public static let hwSlowdown = ThrottleReasons(rawValue: 0x8)
    public static let syncBoost = ThrottleReasons(rawValue: 0x10)
    public static let swThermalSlowdown = ThrottleReasons(rawValue: 0x20)
    public static let hwThermalSlowdown = ThrottleReasons(rawValue: 0x40)
    public static let hwPowerBrakeSlowdown = ThrottleReasons(rawValue: 0x80)
    public static let displayClockSetting = ThrottleReasons(rawValue: 0x100)

    /// The reasons that mean the GPU ran slower than it could: power cap, thermal, hardware
    /// slowdown, power brake.
    public static let throttling: ThrottleReasons = [.swPowerCap, .hwSlowdown, .swThermalSlowdown, .hwThermalSlowdown, .hwPowerBrakeSlowdown]

    /// NVML's names (`nvmlClocksEventReason…` without the prefix), lowest bit first.
    public static let named: [(reason: ThrottleReasons, name: String)] = [
        (.gpuIdle, "GpuIdle"), (.applicationsClocksSetting, "ApplicationsClocksSetting"), (.swPowerCap, "SwPowerCap"),
        (.hwSlowdown, "HwSlowdown"), (.syncBoost, "SyncBoost"), (.swThermalSlowdown, "SwThermalSlowdown"),
        (.hwThermalSlowdown, "HwThermalSlowdown"), (.hwPowerBrakeSlowdown, "HwPowerBrakeSlowdown"),
        (.displayClockSetting, "DisplayClockSetting"),
    ]

    /// True when any bit means real throttling.
    public var isThrottling: Bool { !intersection(.throttling).isEmpty }

    /// The set bits by name, lowest first; unknown bits as `Unknown(0x…)`. Empty for 0.
    public var names: [String] {
        var out: [String] = []
        var known: UInt64 = 0
        for (reason, name) in Self.named {
            known |= reason.rawValue
            if contains(reason) { out.append(name) }
        }
        let unknown = rawValue & ~known
        if unknown != 0 { out.append("Unknown(0x\(String(unknown, radix: 16)))") }
        return out
    }

    /// The reasons with the given names (as ``names`` spells them); unknown names are skipped.
    public init(names: [String]) {
        var bits: UInt64 = 0
        for name in names { if let pair = Self.named.first(where: { $0.name == name }) { bits |= pair.reason.rawValue } }
        self.init(rawValue: bits)
    }
}
