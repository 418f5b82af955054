/// Where GPU samples come from: ``NVML`` on a machine with the NVIDIA driver, a fake in tests.
public protocol GPUReader: Sendable {
    /// The GPUs it can read, by NVML index.
    func devices() -> [TelemetryDevice]
    /// Reads GPU `index` now. PCIe throughput only when `pcie` (NVML blocks 20 ms for it).
    func read(gpu index: Int, pcie: Bool) -> GPUReading
}

/// One GPU's reading and, when a query failed, why.
///
/// Not a failure: a query the GPU does not support. Its field is nil and `failure` stays nil.
public struct GPUReading: Sendable, Equatable {
    public var sample: GPUSample
    /// The first query that failed, e.g. "GPU 1: nvmlDeviceGetPowerUsage failed: GPU is lost (15)".
    public var failure: String?

    public init(sample: GPUSample, failure: String? = nil) {
        self.sample = sample
        self.failure = failure
    }
}

/// What does not change while a GPU is sampled: which one it is.
public struct TelemetryDevice: Codable, Sendable, Equatable {
    public var index: Int
    public var name: String
    /// `GPU-…`; matches `torch.cuda.get_device_properties(i).uuid` (with the prefix added).
    public var uuid: String?
    public var memoryTotalMB: Double?
    public var powerLimitW: Double?

    public init(index: Int, name: String, uuid: String? = nil, memoryTotalMB: Double? = nil, powerLimitW: Double? = nil) {
        self.index = index
        self.name = name
        self.uuid = uuid
        self.memoryTotalMB = memoryTotalMB
        self.powerLimitW = powerLimitW
    }

    enum CodingKeys: String, CodingKey {
        case index, name, uuid
        case memoryTotalMB = "memory_total_mb"
        case powerLimitW = "power_limit_w"
    }
}

extension NVML: GPUReader {
    public func devices() -> [TelemetryDevice] {
        (0..<deviceCount).compactMap { i in
            guard let d = device(i) else { return nil }
            return TelemetryDevice(index: i, name: name(d) ?? "GPU \(i)", uuid: uuid(d), memoryTotalMB: memory(d)?.total, powerLimitW: powerLimit(d))
        }
    }

    public func read(gpu index: Int, pcie: Bool) -> GPUReading {
        var sample = GPUSample(t: Monotonic.now(), gpu: index)
        guard let d = device(index) else {
            return GPUReading(sample: sample, failure: "GPU \(index): NVML has no such GPU (it sees \(deviceCount))")
        }
        var failure: String?
        func take<T>(_ answer: Answer<T>) -> T? {
            switch answer {
            case .success(let value): return value
            case .failure(let error):
                if failure == nil { failure = "GPU \(index): \(error)" }
                return nil
            }
        }
        // Energy first, stamped at the middle of its call: the counter is what the time stamp
        // matters most for, and the call waits on the driver (about 4 ms on an H100 with
        // driver 580, where the other queries take about 10 µs).
        let before = Monotonic.now()
        sample.energyJ = take(energyQuery(d))
        if sample.energyJ != nil { sample.t = (before + Monotonic.now()) / 2 }
        sample.powerW = take(powerQuery(d))
        if let u = take(utilizationQuery(d)) { (sample.smUtil, sample.memUtil) = (u.gpu, u.memory) }
        if let m = take(memoryQuery(d)) { (sample.memUsedMB, sample.memTotalMB) = (m.used, m.total) }
        sample.powerLimitW = take(powerLimitQuery(d))
        sample.tempC = take(temperatureQuery(d))
        sample.smClockMHz = take(clockQuery(d, type: 1))
        sample.memClockMHz = take(clockQuery(d, type: 2))
        sample.throttleReasons = take(throttleQuery(d))
        if pcie {
            sample.pcieTxKBs = take(pcieQuery(d, counter: 0))
            sample.pcieRxKBs = take(pcieQuery(d, counter: 1))
        }
        return GPUReading(sample: sample, failure: failure)
    }
}
