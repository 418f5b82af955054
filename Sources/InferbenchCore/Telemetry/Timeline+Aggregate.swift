/// Telemetry summed up over one window (a cell's measured phase, a load test's step): the
/// `telemetry` object of a cell in results.json.
///
/// Not an error: nil figures. GPU figures are nil without NVML or when the GPU does not
/// answer that query; worker figures are nil when no pid was watched; everything is nil (and
/// ``samples`` 0) for a window with no sample in or near it.
public struct TelemetryAggregate: Codable, Sendable, Equatable {
    /// SM utilization, percent: mean and max over the window's samples of all its GPUs.
    public var gpuUtilMean: Double?
    public var gpuUtilMax: Double?
    public var memUtilMean: Double?
    /// Mean power of the GPUs together (the sum of each GPU's mean), in watts.
    public var powerWMean: Double?
    /// Energy of the GPUs together over the window, in joules.
    public var energyJ: Double?
    /// ``energyJ`` over the samples (inputs) processed in the window.
    public var energyJPerSample: Double?
    /// "counter" (NVML's energy counter, interpolated at the window's edges) or "power"
    /// (mean power × duration, for GPUs without the counter).
    public var energySource: String?
    public var smClockMHzMean: Double?
    /// The most memory in use on any one GPU, in MiB.
    public var memUsedMBMax: Double?
    public var tempCMax: Double?
    /// True when any sample had a reason that means lost speed (power cap, thermal, hardware slowdown, power brake).
    public var throttled: Bool
    /// Every reason seen, throttling or not (`GpuIdle` included), lowest bit first.
    public var throttleReasons: [String]
    /// Share of the samples with a throttling reason, 0 to 1.
    public var throttledFraction: Double?
    /// Whole machine, percent of all cores.
    public var hostCPUUtilMean: Double?
    /// Watched processes, percent of one core.
    public var workerCPUUtilMean: Double?
    public var workerRSSMBMax: Double?
    /// Ticks that contributed.
    public var samples: Int
    /// The timeline's reason, so a report can say why GPU figures are missing.
    public var unavailableReason: String?

    enum CodingKeys: String, CodingKey {
        case throttled, samples
        case gpuUtilMean = "gpu_util_mean"
        case gpuUtilMax = "gpu_util_max"
        case memUtilMean = "mem_util_mean"
        case powerWMean = "power_w_mean"
        case energyJ = "energy_j"
        case energyJPerSample = "energy_j_per_sample"
        case energySource = "energy_source"
        case smClockMHzMean = "sm_clock_mhz_mean"
        case memUsedMBMax = "mem_used_mb_max"
        case tempCMax = "temp_c_max"
        case throttleReasons = "throttle_reasons"
        case throttledFraction = "throttled_fraction"
        case hostCPUUtilMean = "host_cpu_util_mean"
        case workerCPUUtilMean = "worker_cpu_util_mean"
        case workerRSSMBMax = "worker_rss_mb_max"
        case unavailableReason = "unavailable_reason"
    }
}

extension Timeline {
    /// Sums up the window [from, to] (monotonic seconds) over GPUs `gpus` (NVML indices; nil for all).
    ///
    /// A sample counts when its time stamp falls in the window; a window shorter than an
    /// interval that holds none uses the nearest sample on each side. Energy comes from the
    /// counter, interpolated linearly at each edge between the samples around it (extrapolated
    /// from the last two when the window runs past the samples, by up to two intervals); without
    /// the counter, from mean power × (to − from). Per sample, it is divided by
    /// `samplesProcessed` when that is given and positive.
    public func aggregate(from: Double, to: Double, samplesProcessed: Int?, gpus: [Int]? = nil) -> TelemetryAggregate {
        let (from, to) = (min(from, to), max(from, to))
        var lanes: [Int: [GPUSample]] = [:]
        for s in gpu where gpus?.contains(s.gpu) ?? true { lanes[s.gpu, default: []].append(s) }
        var used: [GPUSample] = []
        var ticks = 0
        var power: Double?
        var energy: Double? = 0
        var source = "counter"
        for (_, lane) in lanes.sorted(by: { $0.key < $1.key }) {
            let window = Self.used(lane, from: from, to: to, interval: interval)
            guard !window.isEmpty else { continue }
            used += window
            ticks = max(ticks, window.count)
            if let p = mean(window.compactMap(\.powerW)) { power = (power ?? 0) + p }
            if let e = counterEnergy(lane, from: from, to: to) {
                energy? += e
            } else if let p = mean(window.compactMap(\.powerW)) {
                energy? += p * (to - from)
                source = "power"
            } else {
                energy = nil
            }
        }
        let hostUsed = Self.used(host, from: from, to: to, interval: interval)
        let masks = used.compactMap(\.throttleReasons).map(ThrottleReasons.init(rawValue:))
        let seen = masks.reduce(into: ThrottleReasons()) { $0.formUnion($1) }
        let energyJ = used.isEmpty ? nil : energy
        return TelemetryAggregate(
            gpuUtilMean: mean(used.compactMap(\.smUtil)), gpuUtilMax: used.compactMap(\.smUtil).max(),
            memUtilMean: mean(used.compactMap(\.memUtil)), powerWMean: power, energyJ: energyJ,
            energyJPerSample: energyJ.flatMap { e in samplesProcessed.flatMap { $0 > 0 ? e / Double($0) : nil } },
            energySource: energyJ == nil ? nil : source, smClockMHzMean: mean(used.compactMap(\.smClockMHz)),
            memUsedMBMax: used.compactMap(\.memUsedMB).max(), tempCMax: used.compactMap(\.tempC).max(),
            throttled: seen.isThrottling, throttleReasons: seen.names,
            throttledFraction: masks.isEmpty ? nil : Double(masks.filter(\.isThrottling).count) / Double(masks.count),
            hostCPUUtilMean: mean(hostUsed.compactMap(\.cpuUtil)), workerCPUUtilMean: mean(hostUsed.compactMap(\.processCPUUtil)),
            workerRSSMBMax: hostUsed.compactMap(\.processRSSMB).max(), samples: max(ticks, hostUsed.count),
            unavailableReason: unavailableReason)
    }

    /// Joules one GPU's counter gained over [from, to]; nil without two usable readings of it
    /// around the window, or when the counter went backwards (the driver was reloaded).
    func counterEnergy(_ lane: [GPUSample], from: Double, to: Double) -> Double? {
        let points = lane.compactMap { s in s.energyJ.map { (t: s.t, e: $0) } }
        guard points.count >= 2, let a = counter(points, at: from), let b = counter(points, at: to), b >= a else { return nil }
        return b - a
    }

    /// The counter at time `x`: interpolated between the readings around it, or extrapolated
    /// along the nearest two when `x` lies up to two intervals beyond the readings.
    func counter(_ points: [(t: Double, e: Double)], at x: Double) -> Double? {
        let i = points.partitioningIndex { $0.t >= x }
        let (a, b): ((t: Double, e: Double), (t: Double, e: Double))
        if i == 0 {
            guard points[0].t - x <= 2 * interval else { return nil }
            (a, b) = (points[0], points[1])
        } else if i == points.count {
            guard x - points[i - 1].t <= 2 * interval else { return nil }
            (a, b) = (points[i - 2], points[i - 1])
        } else {
            (a, b) = (points[i - 1], points[i])
        }
        guard b.t > a.t else { return a.e }
        return a.e + (b.e - a.e) * (x - a.t) / (b.t - a.t)
    }
}

private func mean(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
}
