import Foundation

/// Seconds on the machine's monotonic clock (CLOCK_MONOTONIC). Phases, telemetry samples and
/// load windows are all stamped with it, so they line up on one time axis.
public enum Monotonic {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
