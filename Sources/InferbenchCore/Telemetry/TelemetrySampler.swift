import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Samples the GPUs (through NVML) and the host (through /proc) every `interval` on a thread
/// of its own, and keeps the samples for ``snapshot()``.
///
/// The thread is a plain `Thread`, not a task, so a busy Swift concurrency pool cannot delay a
/// sample; ticks are scheduled on absolute monotonic times, so they do not drift, and a tick
/// that cannot start on time is skipped and counted (``SamplerCost/missed``).
///
/// Not errors, and never thrown: no NVML (no driver, no GPU) or a failing NVML call. The first
/// reason is kept in ``unavailableReason`` (later ones are dropped, so a lost GPU does not
/// repeat itself ten times a second) and the host is sampled regardless.
///
/// `@unchecked Sendable`: the samples and the thread's control are behind one `Mutex`; the
/// host sampler is touched only by the sampling thread under ``threadLock``, an `NSLock` held
/// for a thread's whole life (which a scoped `Mutex` cannot express).
public final class TelemetrySampler: @unchecked Sendable {
    /// Seconds between samples.
    public let interval: Double
    /// The GPUs sampled (empty when NVML is unavailable).
    public let devices: [TelemetryDevice]

    private let reader: (any GPUReader)?
    private let pcie: Bool
    private let historyLimit: Int?
    private let onSample: (@Sendable (TelemetryTick) -> Void)?
    /// Unix time minus monotonic time at creation: add it to a sample's `t` for wall time.
    public let wallClockOffset: Double

    private struct State {
        var gpuSamples: [GPUSample] = []
        var hostSamples: [HostSample] = []
        var pids: [Int32] = []
        var reason: String?
        var costs = CostTally()
        var control: Control?
    }
    private let state = Mutex(State())
    /// Held by a sampling thread for its whole life, so a thread started right after `stop()`
    /// waits for the old one instead of sharing ``host`` with it.
    private let threadLock = NSLock()
    /// Touched only by the sampling thread, under ``threadLock``.
    private var host: HostSampler

    /// Opens NVML at `nvmlPath` and samples GPUs `gpus` (NVML indices; nil for all).
    ///
    /// - Parameters:
    ///   - interval: time between samples (at least 1 ms).
    ///   - pcie: also read PCIe throughput, which costs NVML 20 ms per GPU per direction.
    ///   - historyLimit: samples kept per GPU and for the host (oldest dropped); nil keeps all.
    ///   - onSample: called on the sampler thread after each tick; keep it short.
    public convenience init(
        interval: Duration = .milliseconds(100), gpus: [Int]? = nil, pcie: Bool = false, historyLimit: Int? = nil,
        nvmlPath: String = "libnvidia-ml.so.1", onSample: (@Sendable (TelemetryTick) -> Void)? = nil
    ) {
        self.init(
            interval: interval, gpus: gpus, pcie: pcie, historyLimit: historyLimit,
            reader: NVML.open(path: nvmlPath).map { $0 as any GPUReader }, onSample: onSample)
    }

    /// Samples GPUs through `reader` (tests pass a fake, or a failure to act as a machine without GPUs).
    public init(
        interval: Duration = .milliseconds(100), gpus: [Int]? = nil, pcie: Bool = false, historyLimit: Int? = nil,
        reader: Result<any GPUReader, TelemetryUnavailable>, host: HostSampler = HostSampler(),
        onSample: (@Sendable (TelemetryTick) -> Void)? = nil
    ) {
        let (seconds, attoseconds) = interval.components
        self.interval = max(0.001, Double(seconds) + Double(attoseconds) / 1e18)
        self.pcie = pcie
        self.historyLimit = historyLimit.map { max(1, $0) }
        self.onSample = onSample
        self.host = host
        wallClockOffset = Date().timeIntervalSince1970 - Monotonic.now()
        var reason: String? = nil
        switch reader {
        case .failure(let why):
            self.reader = nil
            devices = []
            reason = why.reason
        case .success(let reader):
            let all = reader.devices()
            let wanted = gpus ?? all.map(\.index)
            let missing = wanted.filter { i in !all.contains { $0.index == i } }
            self.reader = reader
            devices = wanted.compactMap { i in all.first { $0.index == i } }
            if all.isEmpty {
                reason = "NVML is loaded but sees no GPU"
            } else if !missing.isEmpty {
                let seen = all.map { String($0.index) }.joined(separator: ",")
                reason = "no GPU \(missing.map(String.init).joined(separator: ",")): NVML sees GPU \(seen)"
            }
        }
        state.withLock { $0.reason = reason }
    }

    // The thread holds the sampler only while it samples, so a forgotten sampler ends too.
    deinit { state.withLock { $0.control }?.wake.signal() }

    /// Starts sampling; the first sample comes one interval later. Not an error: calling it while running.
    public func start() {
        let control = Control(start: Monotonic.now())
        let started = state.withLock { state in
            guard state.control == nil else { return false }
            state.control = control
            return true
        }
        guard started else { return }
        let ref = WeakSampler(self)
        let thread = Thread { [threadLock] in
            // Named from inside: Foundation on Linux drops a name set before start(), and
            // Linux keeps 15 characters of one. It shows in `top -H` and in tests.
            Thread.current.name = "ib-telemetry"
            Self.run(ref, control, threadLock)
        }
        thread.start()
    }

    /// Stops sampling and returns once the thread has finished its last sample. Not an error:
    /// calling it when not running. Samples are kept; ``start()`` resumes.
    public func stop() {
        let control = state.withLock { state -> Control? in
            defer { state.control = nil }
            return state.control
        }
        guard let control else { return }
        control.wake.signal()
        control.done.wait()
        state.withLock { $0.costs.running += Monotonic.now() - control.start }
    }

    /// The processes whose CPU and resident memory are sampled (a worker and its helpers).
    /// Not an error: a pid that does not exist, or exits; it is skipped.
    public func setWatchedPIDs(_ pids: [Int32]) {
        state.withLock { $0.pids = pids }
    }

    /// Why GPU telemetry is missing or incomplete; nil while every GPU answered.
    public var unavailableReason: String? { state.withLock { $0.reason } }

    /// What sampling has cost so far.
    public var cost: SamplerCost { state.withLock { $0.costs.summary(now: Monotonic.now(), runningSince: $0.control?.start) } }

    /// Everything sampled so far (within ``historyLimit``).
    public func snapshot() -> Timeline {
        state.withLock { timeline(gpu: $0.gpuSamples, host: $0.hostSamples, state: $0) }
    }

    /// The samples in [from, to] plus the nearest one beyond each edge, which is all that
    /// ``Timeline/aggregate(from:to:samplesProcessed:gpus:)`` looks at; cheaper than a full copy.
    public func snapshot(from: Double, to: Double) -> Timeline {
        state.withLock { state in
            timeline(
                gpu: Timeline.around(state.gpuSamples, from: from, to: to, lanes: max(1, devices.count)),
                host: Timeline.around(state.hostSamples, from: from, to: to, lanes: 1), state: state)
        }
    }

    private func timeline(gpu: [GPUSample], host: [HostSample], state: State) -> Timeline {
        Timeline(
            interval: interval, devices: devices, gpu: gpu, host: host,
            cost: state.costs.summary(now: Monotonic.now(), runningSince: state.control?.start),
            unavailableReason: state.reason, wallClockOffset: wallClockOffset)
    }

    private static func run(_ ref: WeakSampler, _ control: Control, _ threadLock: NSLock) {
        threadLock.lock()
        defer {
            threadLock.unlock()
            control.done.signal()
        }
        guard let interval = ref.sampler?.primeHost() else { return }
        var k = 1.0
        while true {
            let scheduled = control.start + k * interval
            let wait = max(0, scheduled - Monotonic.now())
            if control.wake.wait(timeout: .now() + .nanoseconds(Int(wait * 1e9))) == .success { break }
            guard let sampler = ref.sampler else { break }
            sampler.tick(scheduled: scheduled)
            // Skip ticks whose time has already passed rather than sampling in a burst.
            let next = ((Monotonic.now() - control.start) / interval).rounded(.down) + 1
            if next > k + 1 { sampler.state.withLock { $0.costs.missed += Int(next - k - 1) } }
            k = max(k + 1, next)
        }
    }

    /// A first host reading, so the first tick already has CPU differences to report.
    private func primeHost() -> Double {
        _ = host.sample(pids: state.withLock { $0.pids }, at: Monotonic.now())
        return interval
    }

    private func tick(scheduled: Double) {
        let cpu0 = Self.threadCPUTime()
        let wall0 = Monotonic.now()
        let readings = reader.map { r in devices.map { r.read(gpu: $0.index, pcie: pcie) } } ?? []
        let watched = state.withLock { $0.pids }
        let hostSample = host.sample(pids: watched, at: Monotonic.now())
        let wall1 = Monotonic.now()
        let cpu1 = Self.threadCPUTime()
        let gpu = readings.map(\.sample)
        let why = state.withLock { state -> String? in
            state.gpuSamples += gpu
            state.hostSamples.append(hostSample)
            if let limit = historyLimit, state.hostSamples.count > limit + limit / 4 + 1 {
                state.hostSamples.removeFirst(state.hostSamples.count - limit)
                state.gpuSamples.removeFirst(max(0, state.gpuSamples.count - limit * devices.count))
            }
            if state.reason == nil { state.reason = readings.lazy.compactMap(\.failure).first }
            state.costs.add(cpu: cpu1 - cpu0, wall: wall1 - wall0, late: wall0 - scheduled)
            return state.reason
        }
        onSample?(TelemetryTick(gpu: gpu, host: hostSample, unavailableReason: why))
    }

    /// CPU time of the calling thread, in seconds.
    static func threadCPUTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private final class WeakSampler: @unchecked Sendable {
        weak var sampler: TelemetrySampler?
        init(_ sampler: TelemetrySampler) { self.sampler = sampler }
    }

    /// One run of the thread: when it started, how to wake it, how it says it has finished.
    private final class Control: Sendable {
        let start: Double
        let wake = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        init(start: Double) { self.start = start }
    }
}

/// What one tick produced, for live displays (`inferbench monitor`).
public struct TelemetryTick: Sendable {
    public var gpu: [GPUSample]
    public var host: HostSample
    /// The sampler's reason so far (the same string every tick once set).
    public var unavailableReason: String?

    public init(gpu: [GPUSample], host: HostSample, unavailableReason: String? = nil) {
        self.gpu = gpu
        self.host = host
        self.unavailableReason = unavailableReason
    }
}
