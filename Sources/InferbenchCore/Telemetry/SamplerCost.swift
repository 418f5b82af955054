/// What the telemetry sampler itself costs, so a report can show that watching did not
/// disturb what was watched.
///
/// Not an error: nil figures before the first sample; a non-zero ``missed`` on a machine so
/// loaded that the sampler thread could not run on time (the samples it did take are good).
public struct SamplerCost: Codable, Sendable, Equatable {
    /// Ticks taken (each reads every sampled GPU and the host once).
    public var samples: Int
    /// CPU time of the sampler thread per tick (CLOCK_THREAD_CPUTIME_ID), in ms.
    public var cpuMSPerSample: Double?
    /// Wall time per tick, in ms: NVML calls wait on the driver, so this exceeds the CPU time.
    public var wallMSPerSample: Double?
    public var wallMSMax: Double?
    /// How late the latest-starting tick began against its schedule, in ms.
    public var lateMSMax: Double?
    /// Ticks skipped because the previous one ran past their time.
    public var missed: Int
    /// Sampler CPU time over the time it ran, in percent of one core.
    public var cpuPercent: Double?

    public init(
        samples: Int = 0, cpuMSPerSample: Double? = nil, wallMSPerSample: Double? = nil, wallMSMax: Double? = nil, lateMSMax: Double? = nil, missed: Int = 0,
        cpuPercent: Double? = nil
    ) {
        self.samples = samples
        self.cpuMSPerSample = cpuMSPerSample
        self.wallMSPerSample = wallMSPerSample
        self.wallMSMax = wallMSMax
        self.lateMSMax = lateMSMax
        self.missed = missed
        self.cpuPercent = cpuPercent
    }

    enum CodingKeys: String, CodingKey {
        case samples, missed
        case cpuMSPerSample = "cpu_ms_per_sample"
        case wallMSPerSample = "wall_ms_per_sample"
        case wallMSMax = "wall_ms_max"
        case lateMSMax = "late_ms_max"
        case cpuPercent = "cpu_percent"
    }
}

/// Running sums behind ``SamplerCost``, kept under the sampler's lock.
struct CostTally {
    var samples = 0
    var cpu = 0.0
    var wall = 0.0
    var wallMax = 0.0
    var lateMax = 0.0
    var missed = 0
    /// Seconds of finished runs (start to stop).
    var running = 0.0

    mutating func add(cpu: Double, wall: Double, late: Double) {
        samples += 1
        self.cpu += cpu
        self.wall += wall
        wallMax = max(wallMax, wall)
        lateMax = max(lateMax, late)
    }

    func summary(now: Double, runningSince: Double?) -> SamplerCost {
        guard samples > 0 else { return SamplerCost(missed: missed) }
        let ran = running + (runningSince.map { now - $0 } ?? 0)
        let n = Double(samples)
        return SamplerCost(
            samples: samples, cpuMSPerSample: cpu / n * 1000, wallMSPerSample: wall / n * 1000, wallMSMax: wallMax * 1000,
            lateMSMax: lateMax * 1000, missed: missed, cpuPercent: ran > 0 ? cpu / ran * 100 : nil)
    }
}
