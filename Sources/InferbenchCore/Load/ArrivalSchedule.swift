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
    /// Gamma-distributed gaps with mean 1/`qps` and shape `burstiness` (vLLM's serving
    /// benchmark convention): 1 is Poisson, below 1 burstier (gaps' CV = 1/√burstiness), above
    /// 1 more even. Seeded.
    case gamma(qps: Double, burstiness: Double, seed: UInt64)
    /// Recorded send offsets (seconds from the start, non-decreasing), replayed as they are.
    case trace(TraceFile)

    /// The highest rate a schedule may have, requests per second: a due time every
    /// microsecond. Beyond it the gaps are shorter than the generator's own cost per request
    /// (tens of microseconds of CPU spread over the cores), so it could only send late.
    public static let maximumRate = 1_000_000.0

    /// Arrival offsets in [0, duration), all at once: for short schedules and tests. A
    /// running step reads ``arrivals(duration:)`` instead, which holds none of them.
    public func offsets(duration: Double) -> [Double] { Array(arrivals(duration: duration)) }

    /// Arrival offsets in [0, duration), in order, computed one at a time: the same values
    /// as ``offsets(duration:)`` for the same schedule, in constant memory whatever the rate.
    public func arrivals(duration: Double) -> Arrivals { Arrivals(schedule: self, duration: duration) }

    /// How many arrivals fall in [0, duration), counted without holding them.
    public func count(duration: Double) -> Int { arrivals(duration: duration).reduce(0) { n, _ in n + 1 } }

    /// Why `rate` (of `flag`) cannot be scheduled, naming the fix; nil when it can.
    public static func refusal(rate: Double, flag: String) -> String? {
        guard !(rate.isFinite && rate <= maximumRate) else { return nil }
        return
            "\(flag) \(Format.raw(rate)): above the generator's ceiling of 1,000,000 requests per second; give a finite rate up to 1000000 (or spread the load over several inferbench processes)"
    }

    /// The arrivals of a schedule, streamed: each `next()` draws the next offset from the
    /// seeded generator exactly as the whole schedule would, so a seed gives the same
    /// offsets either way.
    public struct Arrivals: Sequence, IteratorProtocol, Sendable {
        let schedule: ArrivalSchedule
        let duration: Double
        private var rng: SeededGenerator
        /// The candidate time not yet returned (Poisson and ramp), or the next index (constant).
        private var t: Double
        private var index = 0.0

        init(schedule: ArrivalSchedule, duration: Double) {
            self.schedule = schedule
            self.duration = duration
            switch schedule {
            case .constant(let qps):
                rng = SeededGenerator(seed: 0)
                t = qps > 0 ? 0 : .infinity
            case .poisson(let qps, let seed):
                rng = SeededGenerator(seed: seed)
                t = qps > 0 ? rng.exponential(rate: qps) : .infinity
            case .ramp(let from, let to, let seed):
                rng = SeededGenerator(seed: seed)
                let peak = Swift.max(from, to)
                t = peak > 0 && duration > 0 ? rng.exponential(rate: peak) : .infinity
            case .gamma(let qps, let burstiness, let seed):
                rng = SeededGenerator(seed: seed)
                t = qps > 0 ? rng.gamma(shape: burstiness) / (qps * burstiness) : .infinity
            case .trace(let file):
                rng = SeededGenerator(seed: 0)
                t = file.offsets.first ?? .infinity
            }
        }

        public mutating func next() -> Double? {
            switch schedule {
            case .constant(let qps):
                guard t < duration else { return nil }
                let due = t
                index += 1
                t = index / qps
                return due
            case .poisson(let qps, _):
                guard t < duration else { return nil }
                let due = t
                t += rng.exponential(rate: qps)
                return due
            case .ramp(let from, let to, _):
                // Thinning of a Poisson process at the peak rate (Lewis and Shedler).
                let peak = Swift.max(from, to)
                while t < duration {
                    let candidate = t
                    let rate = from + (to - from) * candidate / duration
                    let kept = Double.random(in: 0..<1, using: &rng) < rate / peak
                    t += rng.exponential(rate: peak)
                    if kept { return candidate }
                }
                return nil
            case .gamma(let qps, let burstiness, _):
                guard t < duration else { return nil }
                let due = t
                t += rng.gamma(shape: burstiness) / (qps * burstiness)
                return due
            case .trace(let file):
                guard t < duration else { return nil }
                let due = t
                index += 1
                t = Int(index) < file.offsets.count ? file.offsets[Int(index)] : .infinity
                return due
            }
        }
    }

    /// A recorded trace's length per request, in send order; nil for every other schedule.
    public var lengths: [Int]? {
        if case .trace(let file) = self { return file.lengths }
        return nil
    }

    /// The nominal mean rate, requests per second.
    public var meanRate: Double {
        switch self {
        case .constant(let q), .poisson(let q, _), .gamma(let q, _, _): return q
        case .ramp(let a, let b, _): return (a + b) / 2
        case .trace(let file): return file.meanRate
        }
    }

    public var label: String {
        switch self {
        case .constant(let q): return "constant \(Format.rate(q)) qps"
        case .poisson(let q, _): return "poisson \(Format.rate(q)) qps"
        case .ramp(let a, let b, _): return "ramp \(Format.rate(a))→\(Format.rate(b)) qps"
        case .gamma(let q, let b, _): return "gamma \(Format.rate(q)) qps, burstiness \(Format.raw(b))"
        case .trace(let file): return "trace \(file.name) (\(file.offsets.count) requests, \(Format.rate(file.meanRate)) qps)"
        }
    }
}

/// Counts a schedule's arrivals window by window, in order, holding none of them: the
/// offered rate of each window of a running step.
public struct ArrivalTally: Sendable {
    private var arrivals: ArrivalSchedule.Arrivals
    /// An arrival read from the stream but not yet counted (it falls in a later window).
    private var held: Double?

    public init(_ arrivals: ArrivalSchedule.Arrivals) {
        self.arrivals = arrivals
        held = self.arrivals.next()
    }

    /// How many of the arrivals not yet counted are before `offset`; counts them.
    public mutating func take(before offset: Double) -> Int {
        var n = 0
        while let t = held, t < offset {
            n += 1
            held = arrivals.next()
        }
        return n
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

    /// A standard normal draw (Box–Muller; the second value is not kept, so draws stay one
    /// generator state apart whatever is asked next).
    mutating func normal() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// A Gamma(`shape`, 1) draw: Marsaglia and Tsang's squeeze for shape ≥ 1; below 1, a draw
    /// at shape + 1 scaled by U^(1/shape) (their boost).
    mutating func gamma(shape: Double) -> Double {
        if shape < 1 {
            let u = 1 - Double.random(in: 0..<1, using: &self)
            return gamma(shape: shape + 1) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal()
            let v = 1 + c * x
            guard v > 0 else { continue }
            let v3 = v * v * v
            let u = 1 - Double.random(in: 0..<1, using: &self)
            if log(u) < 0.5 * x * x + d - d * v3 + d * log(v3) { return d * v3 }
        }
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
