import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// NVIDIA's management library, opened with `dlopen` so that inferbench runs (without GPU
/// telemetry) where there is no driver. All calls are read-only queries.
///
/// Not an error: a machine without `libnvidia-ml.so.1` — ``open()`` returns nil and says why.
public final class NVML: @unchecked Sendable {
    public typealias Device = OpaquePointer

    private let handle: UnsafeMutableRawPointer
    private let lock = NSLock()

    private typealias FnVoid = @convention(c) () -> Int32
    private typealias FnUInt = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    private typealias FnString = @convention(c) (UnsafeMutablePointer<CChar>, UInt32) -> Int32
    private typealias FnDeviceByIndex = @convention(c) (UInt32, UnsafeMutablePointer<Device?>) -> Int32
    private typealias FnDeviceString = @convention(c) (Device, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    private typealias FnDeviceUInt = @convention(c) (Device, UnsafeMutablePointer<UInt32>) -> Int32
    private typealias FnDeviceULL = @convention(c) (Device, UnsafeMutablePointer<UInt64>) -> Int32
    private typealias FnDeviceUIntArg = @convention(c) (Device, UInt32, UnsafeMutablePointer<UInt32>) -> Int32
    private typealias FnDeviceMemory = @convention(c) (Device, UnsafeMutableRawPointer) -> Int32
    private typealias FnDeviceUtil = @convention(c) (Device, UnsafeMutableRawPointer) -> Int32

    struct MemoryInfo { var total: UInt64 = 0; var free: UInt64 = 0; var used: UInt64 = 0 }
    struct Utilization { var gpu: UInt32 = 0; var memory: UInt32 = 0 }

    private init(handle: UnsafeMutableRawPointer) { self.handle = handle }

    /// Loads and initialises NVML, or returns why it could not.
    public static func open(path: String = "libnvidia-ml.so.1") -> Result<NVML, TelemetryUnavailable> {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            return .failure(TelemetryUnavailable(reason: "no NVIDIA driver library (\(path)): \(why)"))
        }
        let nvml = NVML(handle: handle)
        guard let initFn: FnVoid = nvml.symbol("nvmlInit_v2") else {
            return .failure(TelemetryUnavailable(reason: "\(path) has no nvmlInit_v2"))
        }
        let rc = initFn()
        guard rc == 0 else { return .failure(TelemetryUnavailable(reason: "nvmlInit_v2 failed: \(nvml.errorString(rc))")) }
        return .success(nvml)
    }

    private func symbol<T>(_ name: String) -> T? {
        guard let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }

    func errorString(_ rc: Int32) -> String {
        typealias Fn = @convention(c) (Int32) -> UnsafePointer<CChar>?
        if let fn: Fn = symbol("nvmlErrorString"), let text = fn(rc) { return String(cString: text) + " (\(rc))" }
        return "NVML error \(rc)"
    }

    public var driverVersion: String? {
        guard let fn: FnString = symbol("nvmlSystemGetDriverVersion") else { return nil }
        var buffer = [CChar](repeating: 0, count: 96)
        return fn(&buffer, 96) == 0 ? String(cString: buffer) : nil
    }

    public var deviceCount: Int {
        guard let fn: FnUInt = symbol("nvmlDeviceGetCount_v2") else { return 0 }
        var count: UInt32 = 0
        return fn(&count) == 0 ? Int(count) : 0
    }

    public func device(_ index: Int) -> Device? {
        guard let fn: FnDeviceByIndex = symbol("nvmlDeviceGetHandleByIndex_v2") else { return nil }
        var device: Device?
        return fn(UInt32(index), &device) == 0 ? device : nil
    }

    public func name(_ device: Device) -> String? {
        guard let fn: FnDeviceString = symbol("nvmlDeviceGetName") else { return nil }
        var buffer = [CChar](repeating: 0, count: 96)
        return fn(device, &buffer, 96) == 0 ? String(cString: buffer) : nil
    }

    /// (used, total) in MiB.
    public func memory(_ device: Device) -> (used: Double, total: Double)? {
        guard let fn: FnDeviceMemory = symbol("nvmlDeviceGetMemoryInfo") else { return nil }
        var info = MemoryInfo()
        return withUnsafeMutableBytes(of: &info) { fn(device, $0.baseAddress!) } == 0 ? (Double(info.used) / 1_048_576, Double(info.total) / 1_048_576) : nil
    }

    /// (SM %, memory %) over the driver's last sample period.
    public func utilization(_ device: Device) -> (gpu: Double, memory: Double)? {
        guard let fn: FnDeviceUtil = symbol("nvmlDeviceGetUtilizationRates") else { return nil }
        var u = Utilization()
        return withUnsafeMutableBytes(of: &u) { fn(device, $0.baseAddress!) } == 0 ? (Double(u.gpu), Double(u.memory)) : nil
    }

    /// Power draw in watts.
    public func power(_ device: Device) -> Double? { uint(device, "nvmlDeviceGetPowerUsage").map { Double($0) / 1000 } }
    /// Enforced power limit in watts.
    public func powerLimit(_ device: Device) -> Double? { uint(device, "nvmlDeviceGetEnforcedPowerLimit").map { Double($0) / 1000 } }

    /// Energy since the driver loaded, in joules (Volta and newer).
    public func energy(_ device: Device) -> Double? {
        guard let fn: FnDeviceULL = symbol("nvmlDeviceGetTotalEnergyConsumption") else { return nil }
        var mj: UInt64 = 0
        return fn(device, &mj) == 0 ? Double(mj) / 1000 : nil
    }

    /// GPU temperature in °C.
    public func temperature(_ device: Device) -> Double? {
        guard let fn: FnDeviceUIntArg = symbol("nvmlDeviceGetTemperature") else { return nil }
        var t: UInt32 = 0
        return fn(device, 0, &t) == 0 ? Double(t) : nil
    }

    /// Current clock in MHz: 1 = SM, 2 = memory.
    public func clock(_ device: Device, type: UInt32) -> Double? {
        guard let fn: FnDeviceUIntArg = symbol("nvmlDeviceGetClockInfo") else { return nil }
        var mhz: UInt32 = 0
        return fn(device, type, &mhz) == 0 ? Double(mhz) : nil
    }

    /// Bit mask of current clock-event (throttle) reasons.
    public func throttleReasons(_ device: Device) -> UInt64? {
        guard let fn: FnDeviceULL = symbol("nvmlDeviceGetCurrentClocksEventReasons") ?? symbol("nvmlDeviceGetCurrentClocksThrottleReasons") else { return nil }
        var mask: UInt64 = 0
        return fn(device, &mask) == 0 ? mask : nil
    }

    /// PCIe throughput in KB/s: counter 0 = TX, 1 = RX.
    public func pcieThroughput(_ device: Device, counter: UInt32) -> Double? {
        guard let fn: FnDeviceUIntArg = symbol("nvmlDeviceGetPcieThroughput") else { return nil }
        var kb: UInt32 = 0
        return fn(device, counter, &kb) == 0 ? Double(kb) : nil
    }

    private func uint(_ device: Device, _ name: String) -> UInt32? {
        guard let fn: FnDeviceUInt = symbol(name) else { return nil }
        var v: UInt32 = 0
        return fn(device, &v) == 0 ? v : nil
    }
}

/// Why there is no GPU telemetry. Not fatal: the benchmark goes on without it.
public struct TelemetryUnavailable: Error, Sendable, Equatable {
    public var reason: String
}
