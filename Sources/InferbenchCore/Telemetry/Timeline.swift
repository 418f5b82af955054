import Foundation

/// A sample with a time stamp on the ``Monotonic`` clock.
public protocol Timestamped {
    var t: Double { get }
}

extension GPUSample: Timestamped {}
extension HostSample: Timestamped {}

/// What a ``TelemetrySampler`` collected: samples in time order, and how collecting went.
///
/// Not an error: empty ``gpu`` with a ``unavailableReason`` (a machine without NVIDIA's
/// driver), or samples with nil fields (queries a GPU does not support).
public struct Timeline: Codable, Sendable {
    /// Seconds between samples.
    public var interval: Double
    public var devices: [TelemetryDevice]
    /// One sample per GPU per tick, in time order.
    public var gpu: [GPUSample]
    /// One sample per tick, in time order.
    public var host: [HostSample]
    public var cost: SamplerCost
    /// Why GPU telemetry is missing or incomplete; nil when every GPU answered.
    public var unavailableReason: String?
    /// Unix time minus monotonic time when sampling began: adds to a sample's `t` to give wall time.
    public var wallClockOffset: Double

    public init(
        interval: Double, devices: [TelemetryDevice] = [], gpu: [GPUSample] = [], host: [HostSample] = [],
        cost: SamplerCost = SamplerCost(), unavailableReason: String? = nil, wallClockOffset: Double = 0
    ) {
        self.interval = interval
        self.devices = devices
        self.gpu = gpu
        self.host = host
        self.cost = cost
        self.unavailableReason = unavailableReason
        self.wallClockOffset = wallClockOffset
    }

    enum CodingKeys: String, CodingKey {
        case devices, gpu, host, cost
        case interval = "interval_s"
        case unavailableReason = "unavailable_reason"
        case wallClockOffset = "wall_clock_offset_s"
    }

    /// The wall-clock time of a monotonic time stamp.
    public func wallClock(_ t: Double) -> Date {
        Date(timeIntervalSince1970: t + wallClockOffset)
    }

    /// The samples of one lane (one GPU, or the host) that describe [from, to]: those stamped
    /// inside it or, for a window shorter than an interval that holds none, the nearest
    /// sample on each side within two intervals.
    static func used<T: Timestamped>(_ lane: [T], from: Double, to: Double, interval: Double) -> [T] {
        let first = lane.partitioningIndex { $0.t >= from }
        let end = lane.partitioningIndex { $0.t > to }
        if first < end { return Array(lane[first..<end]) }
        let reach = 2 * interval
        var near: [T] = []
        if first > 0, from - lane[first - 1].t <= reach { near.append(lane[first - 1]) }
        if end < lane.count, lane[end].t - to <= reach { near.append(lane[end]) }
        return near
    }

    /// The samples in [from, to] and `lanes` more on each side (one per GPU when samples of
    /// several GPUs interleave), so that a window's edges stay bracketed.
    static func around<T: Timestamped>(_ samples: [T], from: Double, to: Double, lanes: Int) -> [T] {
        let first = max(0, samples.partitioningIndex { $0.t >= from } - lanes)
        let end = min(samples.count, samples.partitioningIndex { $0.t > to } + lanes)
        return first < end ? Array(samples[first..<end]) : []
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for an array in which every element
    /// that does comes after every one that does not (a sorted array and a threshold).
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if predicate(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
