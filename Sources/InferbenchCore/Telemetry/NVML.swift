import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// NVIDIA's management library, opened with `dlopen` so that inferbench runs (without GPU
/// telemetry) where there is no driver. All calls are read-only queries.
///
/// Not an error: a machine without `libnvidia-ml.so.1` — ``open()`` returns nil and says why.
///
/// `@unchecked Sendable` because of the library's raw `dlopen` handle, set once in `open` and
/// only read after, and the device handles (NVML's opaque pointers, which a `Mutex` will not
/// hold as they are not `Sendable`): the cache of those is behind an `NSLock`.
public final class NVML: @unchecked Sendable {
    public typealias Device = OpaquePointer

    private let handle: UnsafeMutableRawPointer
    /// nvmlInit_v2 succeeded, so deinit owes one nvmlShutdown (NVML counts them).
    private var initialized = false
    /// Handles by index, looked up once: the sampler asks for them ten times a second.
    private let lock = NSLock()
    private var handles: [Int: Device] = [:]

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
            return .failure(TelemetryUnavailable(reason: missingLibrary(path: path, dlerror: why)))
        }
        let nvml = NVML(handle: handle)
        guard let initFn: FnVoid = nvml.symbol("nvmlInit_v2") else {
            return .failure(TelemetryUnavailable(reason: "\(path) has no nvmlInit_v2"))
        }
        let rc = initFn()
        guard rc == 0 else { return .failure(TelemetryUnavailable(reason: "nvmlInit_v2 failed: \(nvml.errorString(rc))")) }
        nvml.initialized = true
        return .success(nvml)
    }

    /// Why the library did not load, naming its path once: dlerror starts with the path
    /// itself ("libnvidia-ml.so.1: cannot open shared object file: …").
    static func missingLibrary(path: String, dlerror: String) -> String {
        let why = dlerror.hasPrefix(path + ": ") ? String(dlerror.dropFirst(path.count + 2)) : dlerror
        return "no NVIDIA driver library (\(path)): \(why)"
    }

    deinit {
        // The library stays loaded: unloading it buys nothing and other instances may share it.
        if initialized, let shutdown: FnVoid = symbol("nvmlShutdown") { _ = shutdown() }
    }

    /// The text of a NUL-terminated C buffer.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    fileprivate func symbol<T>(_ name: String) -> T? {
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
        return fn(&buffer, 96) == 0 ? Self.string(buffer) : nil
    }

    public var deviceCount: Int {
        guard let fn: FnUInt = symbol("nvmlDeviceGetCount_v2") else { return 0 }
        var count: UInt32 = 0
        return fn(&count) == 0 ? Int(count) : 0
    }

    public func device(_ index: Int) -> Device? {
        if let cached = lock.withLock({ handles[index] }) { return cached }
        guard index >= 0, let fn: FnDeviceByIndex = symbol("nvmlDeviceGetHandleByIndex_v2") else { return nil }
        var device: Device?
        guard fn(UInt32(index), &device) == 0, let device else { return nil }
        lock.withLock { handles[index] = device }
        return device
    }

    public func name(_ device: Device) -> String? {
        guard let fn: FnDeviceString = symbol("nvmlDeviceGetName") else { return nil }
        var buffer = [CChar](repeating: 0, count: 96)
        return fn(device, &buffer, 96) == 0 ? Self.string(buffer) : nil
    }

    /// The GPU's UUID (`GPU-…`), which CUDA also reports: the way to match NVML's index
    /// (PCI bus order) to `cuda:N` (CUDA orders fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID).
    public func uuid(_ device: Device) -> String? {
        guard let fn: FnDeviceString = symbol("nvmlDeviceGetUUID") else { return nil }
        var buffer = [CChar](repeating: 0, count: 96)
        return fn(device, &buffer, 96) == 0 ? Self.string(buffer) : nil
    }

    /// (used, total) in MiB.
    public func memory(_ device: Device) -> (used: Double, total: Double)? { try? memoryQuery(device).get() }
    /// (SM %, memory %) over the driver's last sample period.
    public func utilization(_ device: Device) -> (gpu: Double, memory: Double)? { try? utilizationQuery(device).get() }
    /// Power draw in watts.
    public func power(_ device: Device) -> Double? { try? powerQuery(device).get() }
    /// Enforced power limit in watts.
    public func powerLimit(_ device: Device) -> Double? { try? powerLimitQuery(device).get() }
    /// Energy since the driver loaded, in joules (Volta and newer).
    public func energy(_ device: Device) -> Double? { try? energyQuery(device).get() }
    /// GPU temperature in °C.
    public func temperature(_ device: Device) -> Double? { try? temperatureQuery(device).get() }
    /// Current clock in MHz: 1 = SM, 2 = memory.
    public func clock(_ device: Device, type: UInt32) -> Double? { try? clockQuery(device, type: type).get() }
    /// Bit mask of current clock-event (throttle) reasons.
    public func throttleReasons(_ device: Device) -> UInt64? { try? throttleQuery(device).get() }
    /// PCIe throughput in KB/s: counter 0 = TX, 1 = RX. NVML measures it over 20 ms, blocking.
    public func pcieThroughput(_ device: Device, counter: UInt32) -> Double? { try? pcieQuery(device, counter: counter).get() }

    // The *Query forms tell "this GPU does not answer that" (success with nil: a missing
    // symbol, NOT_SUPPORTED, NO_DATA) from a call that failed (a failure naming the call).

    typealias Answer<T> = Result<T?, NVMLCallError>

    func memoryQuery(_ device: Device) -> Answer<(used: Double, total: Double)> {
        var info = MemoryInfo()
        return call("nvmlDeviceGetMemoryInfo") { (fn: FnDeviceMemory) in withUnsafeMutableBytes(of: &info) { fn(device, $0.baseAddress!) } }
            .map { $0.map { (Double(info.used) / 1_048_576, Double(info.total) / 1_048_576) } }
    }

    func utilizationQuery(_ device: Device) -> Answer<(gpu: Double, memory: Double)> {
        var u = Utilization()
        return call("nvmlDeviceGetUtilizationRates") { (fn: FnDeviceUtil) in withUnsafeMutableBytes(of: &u) { fn(device, $0.baseAddress!) } }
            .map { $0.map { (Double(u.gpu), Double(u.memory)) } }
    }

    func powerQuery(_ device: Device) -> Answer<Double> { uint(device, "nvmlDeviceGetPowerUsage").map { $0.map { Double($0) / 1000 } } }
    func powerLimitQuery(_ device: Device) -> Answer<Double> { uint(device, "nvmlDeviceGetEnforcedPowerLimit").map { $0.map { Double($0) / 1000 } } }

    func energyQuery(_ device: Device) -> Answer<Double> {
        var mj: UInt64 = 0
        return call("nvmlDeviceGetTotalEnergyConsumption") { (fn: FnDeviceULL) in fn(device, &mj) }.map { $0.map { Double(mj) / 1000 } }
    }

    func temperatureQuery(_ device: Device) -> Answer<Double> {
        var t: UInt32 = 0
        return call("nvmlDeviceGetTemperature") { (fn: FnDeviceUIntArg) in fn(device, 0, &t) }.map { $0.map { Double(t) } }
    }

    func clockQuery(_ device: Device, type: UInt32) -> Answer<Double> {
        var mhz: UInt32 = 0
        return call("nvmlDeviceGetClockInfo") { (fn: FnDeviceUIntArg) in fn(device, type, &mhz) }.map { $0.map { Double(mhz) } }
    }

    func throttleQuery(_ device: Device) -> Answer<UInt64> {
        var mask: UInt64 = 0
        let name = hasSymbol("nvmlDeviceGetCurrentClocksEventReasons") ? "nvmlDeviceGetCurrentClocksEventReasons" : "nvmlDeviceGetCurrentClocksThrottleReasons"
        return call(name) { (fn: FnDeviceULL) in fn(device, &mask) }.map { $0.map { mask } }
    }

    func pcieQuery(_ device: Device, counter: UInt32) -> Answer<Double> {
        var kb: UInt32 = 0
        return call("nvmlDeviceGetPcieThroughput") { (fn: FnDeviceUIntArg) in fn(device, counter, &kb) }.map { $0.map { Double(kb) } }
    }

    private func uint(_ device: Device, _ name: String) -> Answer<UInt32> {
        var v: UInt32 = 0
        return call(name) { (fn: FnDeviceUInt) in fn(device, &v) }.map { $0.map { v } }
    }

    /// NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_FUNCTION_NOT_FOUND and NVML_ERROR_NO_DATA: the GPU
    /// or driver has no answer to this question, which is a fact about it, not a failure.
    static let unanswered: Set<Int32> = [3, 13, 21]

    /// Calls `name` through `body`; `.success(())` when it answered, `.success(nil)` when it cannot.
    private func call<F>(_ name: String, _ body: (F) -> Int32) -> Answer<Void> {
        guard let fn: F = symbol(name) else { return .success(nil) }
        let rc = body(fn)
        if rc == 0 { return .success(()) }
        if Self.unanswered.contains(rc) { return .success(nil) }
        return .failure(NVMLCallError(function: name, code: rc, message: errorString(rc)))
    }

    private func hasSymbol(_ name: String) -> Bool { dlsym(handle, name) != nil }
}

/// One NVML call that failed for a reason other than "not supported" (GPU lost, no
/// permission, driver/library mismatch, timeout …).
public struct NVMLCallError: Error, Sendable, Equatable, CustomStringConvertible {
    public var function: String
    public var code: Int32
    /// nvmlErrorString's text with the code, e.g. "GPU is lost (15)".
    public var message: String
    public var description: String { "\(function) failed: \(message)" }
}

/// Why there is no GPU telemetry. Not fatal: the benchmark goes on without it.
public struct TelemetryUnavailable: Error, Sendable, Equatable {
    public var reason: String
}

extension NVML {
    /// GPU memory used by process `pid` on `device`, in MiB (its CUDA context included), or
    /// nil when the process has no context there or the driver does not say.
    public func processMemoryMB(_ device: Device, pid: Int32) -> Double? {
        // nvmlProcessInfo_v2_t: pid (u32), usedGpuMemory (u64), gpuInstanceId, computeInstanceId: 24 bytes.
        typealias Fn = @convention(c) (Device, UnsafeMutablePointer<UInt32>, UnsafeMutableRawPointer?) -> Int32
        guard let fn: Fn = symbol("nvmlDeviceGetComputeRunningProcesses_v3") else { return nil }
        var count: UInt32 = 64
        let stride = 24
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: stride * 64, alignment: 8)
        defer { buffer.deallocate() }
        guard fn(device, &count, buffer) == 0 else { return nil }
        for i in 0..<Int(min(count, 64)) {
            let base = buffer + i * stride
            if Int32(bitPattern: base.load(as: UInt32.self)) == pid {
                let used = base.load(fromByteOffset: 8, as: UInt64.self)
                return used == UInt64.max ? nil : Double(used) / 1_048_576
            }
        }
        return nil
    }
}

/// Per-process GPU memory for cells, through one NVML handle opened on first use.
public enum ProcessGPUMemory {
    static let nvml: NVML? = try? NVML.open().get()

    public static func usedMB(pid: Int32, gpu: Int) -> Double? {
        guard let nvml, let device = nvml.device(gpu) else { return nil }
        return nvml.processMemoryMB(device, pid: pid)
    }
}
