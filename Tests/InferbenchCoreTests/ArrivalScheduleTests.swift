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
}
