import Foundation

/// When requests are due, as offsets in seconds from the start of a test.
///
/// Open-loop generators send at these times whatever happens to earlier requests; latency
/// counts from them (no coordinated omission).
public enum ArrivalSchedule: Sendable, Equatable {
    /// Evenly spaced at `qps`.
    case constant(qps: Double)
    /// Exponential gaps with mean 1/`qps` (a Poisson process), seeded.
    case poisson(qps: Double, seed: UInt64)
    /// Rate rising (or falling) linearly from `from` to `to` over the duration, Poisson gaps.
    case ramp(from: Double, to: Double, seed: UInt64)

    /// Arrival offsets in [0, duration).
    public func offsets(duration: Double) -> [Double] {
        var times: [Double] = []
        switch self {
        case .constant(let qps):
            guard qps > 0 else { return [] }
            var t = 0.0
            var i = 0.0
            while t < duration {
                times.append(t)
                i += 1
                t = i / qps
            }
        case .poisson(let qps, let seed):
            guard qps > 0 else { return [] }
            var rng = SeededGenerator(seed: seed)
            var t = rng.exponential(rate: qps)
            while t < duration {
                times.append(t)
                t += rng.exponential(rate: qps)
            }
        case .ramp(let from, let to, let seed):
            // Thinning of a Poisson process at the peak rate (Lewis and Shedler).
            let peak = max(from, to)
            guard peak > 0, duration > 0 else { return [] }
            var rng = SeededGenerator(seed: seed)
            var t = rng.exponential(rate: peak)
            while t < duration {
                let rate = from + (to - from) * t / duration
                if Double.random(in: 0..<1, using: &rng) < rate / peak { times.append(t) }
                t += rng.exponential(rate: peak)
            }
        }
        return times
    }

    /// The nominal mean rate, requests per second.
    public var meanRate: Double {
        switch self {
        case .constant(let q), .poisson(let q, _): return q
        case .ramp(let a, let b, _): return (a + b) / 2
        }
    }

    public var label: String {
        switch self {
        case .constant(let q): return "constant \(Format.rate(q)) qps"
        case .poisson(let q, _): return "poisson \(Format.rate(q)) qps"
        case .ramp(let a, let b, _): return "ramp \(Format.rate(a))→\(Format.rate(b)) qps"
        }
    }
}

/// SplitMix64: small, fast and seeded, so schedules are reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func exponential(rate: Double) -> Double {
        -log(1 - Double.random(in: 0..<1, using: &self)) / rate
    }
}

/// Parses durations: `30s`, `10m`, `2h`, `500ms`, or a bare number of seconds.
public func parseDuration(_ text: String, flag: String) throws(InferbenchError) -> Double {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, scale) in units where t.hasSuffix(suffix) {
        if let v = Double(t.dropLast(suffix.count)), v >= 0 { return v * scale }
    }
    if let v = Double(t), v >= 0 { return v }
    throw .badInput("\(flag) \(text): expected a duration such as 30s, 10m, 2h or a number of seconds")
}
