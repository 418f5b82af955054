import Foundation

/// A point in time in monotonic seconds: the timebase of request outcomes, step phases and
/// telemetry samples, so that all of them can be compared with one another.
public struct MonotonicInstant: InstantProtocol, Sendable, Hashable {
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    public func advanced(by duration: Duration) -> MonotonicInstant { MonotonicInstant(seconds: seconds + duration.inSeconds) }
    public func duration(to other: MonotonicInstant) -> Duration { .seconds(other.seconds - seconds) }
    public static func < (a: MonotonicInstant, b: MonotonicInstant) -> Bool { a.seconds < b.seconds }
}

/// The clock the load engine reads and sleeps on: the batcher's max-delay timer, the
/// generator's due times. Production uses ``MonotonicClock``; a test supplies one it moves
/// by hand, so that what depends on time can be checked without depending on how fast
/// the machine is.
public protocol LoadClock: Clock where Instant == MonotonicInstant {
    /// Whether a sleep on this clock wakes late, by the host's timer latency, so that the
    /// open loop should learn how long before a due time to stop sleeping
    /// (``LoadGenerator/WakeLead``). A clock a test moves by hand wakes sleepers when it is
    /// moved, however far: learning from it would only make the loop spin.
    var wakesLate: Bool { get }
}

extension LoadClock {
    public var wakesLate: Bool { false }

    /// Now, in monotonic seconds.
    public func seconds() -> Double { now.seconds }

    /// Sleeps until monotonic second `deadline`; at once when that has passed. Throws only
    /// when the task is cancelled.
    public func sleep(untilSeconds deadline: Double) async throws {
        try await sleep(until: MonotonicInstant(seconds: deadline), tolerance: nil)
    }
}

/// The real clock: `CLOCK_MONOTONIC` (``Monotonic``), the same one telemetry is stamped with.
///
/// Not `ContinuousClock`: its instants are opaque (they cannot be turned into the seconds
/// that results and telemetry record) and on Linux it counts suspended time, which
/// `CLOCK_MONOTONIC` does not.
public struct MonotonicClock: LoadClock {
    public var wakesLate: Bool { true }

    public init() {}

    public var now: MonotonicInstant { MonotonicInstant(seconds: Monotonic.now()) }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: MonotonicInstant, tolerance: Duration?) async throws {
        let wait = deadline.seconds - Monotonic.now()
        guard wait > 0 else { return try Task.checkCancellation() }
        try await Task.sleep(for: .microseconds(Int64(wait * 1e6)), tolerance: tolerance)
    }
}

extension Duration {
    /// The duration as a floating-point number of seconds.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
