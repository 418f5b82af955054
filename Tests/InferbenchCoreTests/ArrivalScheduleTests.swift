import Foundation
import Testing

@testable import InferbenchCore

@Suite struct ArrivalScheduleTests {
    static func gaps(_ offsets: [Double]) -> [Double] { zip(offsets.dropFirst(), offsets).map { $0 - $1 } }

    static func meanAndCV(_ xs: [Double]) -> (mean: Double, cv: Double) {
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count - 1)
        return (mean, variance.squareRoot() / mean)
    }

    /// Arrivals per `width`-second bin over `duration`.
    static func counts(_ offsets: [Double], width: Double, duration: Double) -> [Int] {
        var bins = [Int](repeating: 0, count: Int((duration / width).rounded()))
        for t in offsets { bins[Int(t / width)] += 1 }
        return bins
    }

    @Test func poissonGapsHaveMeanOneOverRateAndCVOne() {
        let offsets = ArrivalSchedule.poisson(qps: 1000, seed: 42).offsets(duration: 100)
        // 100 000 expected; one standard deviation is 316.
        #expect(abs(offsets.count - 100_000) < 1_500)
        #expect(offsets.first! > 0)
        #expect(offsets.last! < 100)
        let gaps = Self.gaps(offsets)
        #expect(gaps.allSatisfy { $0 > 0 })
        let (mean, cv) = Self.meanAndCV(gaps)
        #expect(abs(mean - 0.001) < 0.001 * 0.02)
        #expect(abs(cv - 1) < 0.02)
        // Exponential gaps: about e^-1 of them are longer than the mean.
        let longer = Double(gaps.filter { $0 > 0.001 }.count) / Double(gaps.count)
        #expect(abs(longer - exp(-1)) < 0.01)
    }

    @Test func poissonIsSeededAndDeterministic() {
        let a = ArrivalSchedule.poisson(qps: 500, seed: 7).offsets(duration: 10)
        let b = ArrivalSchedule.poisson(qps: 500, seed: 7).offsets(duration: 10)
        let c = ArrivalSchedule.poisson(qps: 500, seed: 8).offsets(duration: 10)
        #expect(a == b)
        #expect(a != c)
        #expect(a.prefix(10) != c.prefix(10))
        #expect(ArrivalSchedule.poisson(qps: 0, seed: 7).offsets(duration: 10) == [])
    }

    @Test func constantIsExactlySpaced() {
        #expect(ArrivalSchedule.constant(qps: 4).offsets(duration: 2) == [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75])
        let offsets = ArrivalSchedule.constant(qps: 1000).offsets(duration: 1)
        #expect(offsets.count == 1000)
        #expect(offsets.enumerated().allSatisfy { $1 == Double($0) / 1000 })
        #expect(Self.gaps(offsets).allSatisfy { abs($0 - 0.001) < 1e-12 })
        #expect(ArrivalSchedule.constant(qps: 0).offsets(duration: 1) == [])
    }

    @Test func rampRateRisesLinearly() {
        // Rate 10·t per second over 100 s: bin k of 10 s expects 1000·k + 500 arrivals.
        let schedule = ArrivalSchedule.ramp(from: 0, to: 1000, seed: 3)
        let offsets = schedule.offsets(duration: 100)
        #expect(offsets == schedule.offsets(duration: 100))
        #expect(abs(offsets.count - 50_000) < 1_000)
        let bins = Self.counts(offsets, width: 10, duration: 100)
        for (k, n) in bins.enumerated() {
            let expected = 1000.0 * Double(k) + 500
            #expect(abs(Double(n) - expected) < 4 * expected.squareRoot(), "bin \(k): \(n) arrivals, expected about \(Int(expected))")
        }
        // Least-squares slope of the per-bin rate: 10 requests/s per second.
        let xs = (0..<bins.count).map { Double($0) * 10 + 5 }
        let ys = bins.map { Double($0) / 10 }
        let mx = xs.reduce(0, +) / Double(xs.count)
        let my = ys.reduce(0, +) / Double(ys.count)
        let covariance: Double = zip(xs, ys).map { (x: Double, y: Double) -> Double in (x - mx) * (y - my) }.reduce(0, +)
        let spread: Double = xs.map { (x: Double) -> Double in (x - mx) * (x - mx) }.reduce(0, +)
        let slope = covariance / spread
        #expect(abs(slope - 10) < 0.2)
        #expect(schedule.meanRate == 500)
    }

    @Test func rampFallsWhenToIsBelowFrom() {
        let offsets = ArrivalSchedule.ramp(from: 1000, to: 0, seed: 3).offsets(duration: 100)
        let bins = Self.counts(offsets, width: 10, duration: 100)
        #expect(abs(Double(bins.first!) - 9500) < 400)
        #expect(abs(Double(bins.last!) - 500) < 100)
        #expect(zip(bins.dropFirst(), bins).allSatisfy { $0 < $1 })
    }

    // MARK: Streamed arrivals

    /// The schedule as it was computed before arrivals were streamed: every offset up front.
    /// Kept here so that the stream is checked against it, not against itself.
    static func precomputed(_ schedule: ArrivalSchedule, duration: Double) -> [Double] {
        var times: [Double] = []
        switch schedule {
        case .constant(let qps):
            guard qps > 0 else { return [] }
            var (t, i) = (0.0, 0.0)
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
            let peak = max(from, to)
            guard peak > 0, duration > 0 else { return [] }
            var rng = SeededGenerator(seed: seed)
            var t = rng.exponential(rate: peak)
            while t < duration {
                if Double.random(in: 0..<1, using: &rng) < (from + (to - from) * t / duration) / peak { times.append(t) }
                t += rng.exponential(rate: peak)
            }
        case .gamma(let qps, let shape, let seed):
            guard qps > 0 else { return [] }
            var rng = SeededGenerator(seed: seed)
            var t = rng.gamma(shape: shape) / (qps * shape)
            while t < duration {
                times.append(t)
                t += rng.gamma(shape: shape) / (qps * shape)
            }
        case .trace(let file):
            times = file.offsets.filter { $0 < duration }
        }
        return times
    }

    @Test(arguments: [
        ArrivalSchedule.poisson(qps: 2000, seed: 42), .poisson(qps: 3, seed: 9), .constant(qps: 333), .ramp(from: 0, to: 900, seed: 5),
        .ramp(from: 700, to: 100, seed: 11), .poisson(qps: 0, seed: 1), .constant(qps: 0), .gamma(qps: 500, burstiness: 0.3, seed: 4),
        .trace(TraceFile(name: "t", offsets: [0, 0.1, 0.1, 3, 7.4, 7.5, 9])),
    ])
    func streamedArrivalsEqualThePrecomputedOffsets(_ schedule: ArrivalSchedule) {
        let expected = Self.precomputed(schedule, duration: 7.5)
        #expect(Array(schedule.arrivals(duration: 7.5)) == expected)
        #expect(schedule.offsets(duration: 7.5) == expected)
        #expect(schedule.count(duration: 7.5) == expected.count)
    }

    @Test func aTallyCountsEachWindowsArrivalsOnce() {
        let schedule = ArrivalSchedule.poisson(qps: 500, seed: 3)
        let offsets = schedule.offsets(duration: 10)
        var tally = ArrivalTally(schedule.arrivals(duration: 10))
        for edge in stride(from: 1.0, through: 10, by: 1) {
            #expect(tally.take(before: edge) == offsets.filter { $0 >= edge - 1 && $0 < edge }.count)
        }
        #expect(tally.take(before: .infinity) == 0)
    }

    @Test func ratesTheGeneratorCannotScheduleAreRefusedNamingTheCeiling() {
        #expect(ArrivalSchedule.refusal(rate: 1_000_000, flag: "--qps") == nil)
        #expect(ArrivalSchedule.refusal(rate: 0.5, flag: "--qps") == nil)
        let absurd = ArrivalSchedule.refusal(rate: 1e9, flag: "--qps")
        #expect(absurd?.hasPrefix("--qps 1000000000: above the generator's ceiling of 1,000,000 requests per second") == true, "\(absurd ?? "")")
        #expect(ArrivalSchedule.refusal(rate: .infinity, flag: "--ramp")?.hasPrefix("--ramp inf: above") == true)
        #expect(ArrivalSchedule.refusal(rate: .nan, flag: "--qps") != nil)
    }

    @Test func anAbsurdRateStreamsWithoutHoldingItsArrivals() {
        // 1e9 req/s for an hour is 3.6e12 offsets: only a stream can start on it.
        var arrivals = ArrivalSchedule.poisson(qps: 1e9, seed: 1).arrivals(duration: 3600)
        let first = (0..<1000).compactMap { _ in arrivals.next() }
        #expect(first.count == 1000 && first.last! < 1e-5)
    }

    /// Gamma gaps (vLLM's burstiness convention): mean 1/rate whatever the shape, and a
    /// coefficient of variation of 1/√burstiness, within 5% over 20,000 seeded draws.
    @Test(arguments: [0.25, 0.5, 1.0, 4.0])
    func gammaGapsHaveTheConfiguredCoefficientOfVariation(burstiness: Double) {
        var arrivals = ArrivalSchedule.gamma(qps: 1000, burstiness: burstiness, seed: 11).arrivals(duration: .infinity)
        let offsets = (0...20_000).compactMap { _ in arrivals.next() }
        let (mean, cv) = Self.meanAndCV(Self.gaps(offsets))
        #expect(abs(mean * 1000 - 1) < 0.05, "mean gap \(mean) s at 1000 qps")
        #expect(abs(cv / (1 / burstiness.squareRoot()) - 1) < 0.05, "CV \(cv) for burstiness \(burstiness)")
        #expect(Self.gaps(offsets).allSatisfy { $0 >= 0 })
    }

    @Test func aTraceReplaysItsOffsetsUpToTheStepsEnd() throws {
        let text = "offset_s\n0\n0.25\n# a pause\n\n0.25\n{\"offset_s\": 1}\n{\"offset_s\": 2}\n"
        let trace = try TraceFile.parse(text, name: "/tmp/t.csv")
        #expect(trace.offsets == [0, 0.25, 0.25, 1, 2] && trace.name == "t.csv", "an offset of 1 is a number, not true")
        #expect(trace.meanRate == 2.5)
        #expect(ArrivalSchedule.trace(trace).offsets(duration: trace.span) == trace.offsets)
        #expect(ArrivalSchedule.trace(trace).offsets(duration: 1) == [0, 0.25, 0.25])
        #expect(ArrivalSchedule.trace(trace).label == "trace t.csv (5 requests, 2.50 qps)")
    }

    @Test func aTraceMayGiveEachRequestItsLength() throws {
        let trace = try TraceFile.parse("offset_s,seq\n0,16\n0.1, 300\n{\"offset_s\": 0.2, \"seq\": 40}\n", name: "/tmp/t.csv")
        #expect(trace.offsets == [0, 0.1, 0.2] && trace.lengths == [16, 300, 40])
        #expect(ArrivalSchedule.trace(trace).lengths == [16, 300, 40] && ArrivalSchedule.poisson(qps: 1, seed: 0).lengths == nil)
        let lengths = try #require(trace.sequenceLengths)
        #expect(lengths.description == "trace:t.csv" && lengths.support == [16, 40, 300])
        #expect(LengthPlan(lengths: lengths, padding: .multiple(64)).buckets == [64, 128, 192, 256, 300])
        #expect(try TraceFile.parse("0\n1\n", name: "p.csv").lengths == nil)
    }

    /// Each fault names the file and line, with the fix.
    @Test(arguments: [
        ("0\n0.5\n0.4\n", "line 3: offset 0.4 s comes before the previous line's 0.5 s; sort the trace by time"),
        ("0\n-1\n", "line 2: offset -1 is negative or not finite"),
        ("0\nsoon\n", "line 2: soon is not a number of seconds"),
        ("0,seq=128\n", "line 1: length seq=128 is not a whole number of tokens from 1 to 1048576"),
        ("0,128,x\n", "line 1: at most two fields per line, the offset in seconds and the request's length in tokens"),
        ("0,0\n", "line 1: length 0 is not a whole number of tokens"),
        ("{\"offset_s\": 1, \"seq\": 6.5}\n", "line 1: length 6.5 is not a whole number of tokens"),
        ("{\"offset_s\": 1, \"tokens\": 64}\n", "line 1: give {\"offset_s\": SECONDS} or {\"offset_s\": SECONDS, \"seq\": TOKENS} and nothing else"),
        ("0,16\n0.1\n", "line 2: no length, while line 1 has one; give every request a length, or none"),
        ("# h\n0\n0.1,16\n", "line 3: a length, while line 2 has none; give every request a length, or none"),
        ("{offset: 1}\n", "line 1: not a JSON object"),
        ("{\"offset_s\": true}\n", "line 1: give {\"offset_s\": SECONDS}"),
        ("offset_s\n# nothing\n", "no send offsets in the file"),
        ("0\ninf\n", "line 2: offset inf is negative or not finite"),
    ])
    func aBadTraceIsRefusedNamingItsLine(text: String, message: String) {
        do {
            _ = try TraceFile.parse(text, name: "bad.csv")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.hasPrefix("--trace bad.csv") && error.description.contains(message), "\(error.description)")
        }
    }
}
