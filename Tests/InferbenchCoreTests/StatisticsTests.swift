import Foundation
import Testing

@testable import InferbenchCore

/// The library's seeded SplitMix64 generator (its `normal()` draws serve the statistical tests).
typealias SplitMix64 = SeededGenerator

extension SeededGenerator {
    init(state: UInt64) { self.init(seed: state) }
}

@Suite struct StatisticsTests {
    @Test func medianIntervalCoversTheTrueMedianOfALognormal() {
        // Lognormal with median 5 ms, sigma 0.3: the true median is exactly 5 ms.
        var rng = SplitMix64(state: 42)
        var covered = 0
        for _ in 0..<100 {
            let samples = (0..<400).map { _ in 5_000_000 * exp(0.3 * rng.normal()) }.sorted()
            let ci = Statistics.quantileInterval(sorted: samples, quantile: 0.5)
            if ci.lower <= 5_000_000 && 5_000_000 <= ci.upper { covered += 1 }
        }
        #expect(covered >= 90, "covered \(covered) of 100")
    }

    @Test func summaryPercentilesMatchAnalyticValues() throws {
        var rng = SplitMix64(state: 7)
        let values = (0..<200_000).map { _ in Int64(5_000_000 * exp(0.3 * rng.normal())) }
        let s = try #require(LatencySamples(values).summary())
        #expect(abs(s.p50 - 5.0) / 5.0 < 0.02)
        let p99 = 5.0 * exp(0.3 * 2.326348)
        #expect(abs(s.p99 - p99) / p99 < 0.02)
        #expect(s.n == 200_000)
        #expect(s.ci95.p50.lower <= s.p50 && s.p50 <= s.ci95.p50.upper * 1.001)
        #expect(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max)
    }

    @Test func ratioIntervalIsSignificantOnlyWhenIntervalsSeparate() {
        let fast = Statistics.ratio(10, (9.9, 10.1), over: 5, (4.95, 5.05))
        #expect(abs(fast.ratio - 2) < 1e-9)
        #expect(fast.lower > 1.9 && fast.upper < 2.1)
        let same = Statistics.ratio(10, (9, 11), over: 10, (9, 11))
        #expect(same.lower < 1 && same.upper > 1)
    }

    @Test func meanIntervalUsesStudentT() {
        let m = Statistics.meanInterval([10, 12, 11, 9, 13])
        #expect(m.mean == 11)
        #expect(m.lower < 11 && m.upper > 11)
        #expect(abs((m.upper - m.lower) / 2 - 2.776 * (2.5).squareRoot() / (5.0).squareRoot()) < 1e-6)
    }

    @Test func outliersFoundInStallsNotInCleanData() {
        var rng = SplitMix64(state: 3)
        let clean = (0..<1000).map { _ in 5 + 0.05 * rng.normal() }
        #expect(Outliers.count(clean) <= 5)
        var stalled = clean
        for i in stride(from: 0, to: 1000, by: 50) { stalled[i] = 50 }
        #expect(Outliers.count(stalled) >= 20)
    }
}

@Suite struct StoppingRuleTests {
    @Test func warmupEndsWhenConsecutiveMediansAgree() {
        let rule = StoppingRule()
        #expect(rule.warmupDecision(chunkMedians: [10], iterations: 10, elapsed: 0.1) == .more)
        #expect(rule.warmupDecision(chunkMedians: [10, 5], iterations: 20, elapsed: 0.2) == .more)
        #expect(rule.warmupDecision(chunkMedians: [10, 5, 5.05], iterations: 30, elapsed: 0.3) == .stable)
        #expect(rule.warmupDecision(chunkMedians: [10, 5, 2.5], iterations: 30, elapsed: 11) == .cappedUnstable)
    }

    @Test func measureStopsAtTargetOnlyAfterMinimums() {
        let rule = StoppingRule()
        #expect(rule.measureDecision(iterations: 10, elapsed: 2, relativeHalfWidth: 0.001) == .more)
        #expect(rule.measureDecision(iterations: 100, elapsed: 0.5, relativeHalfWidth: 0.001) == .more)
        #expect(rule.measureDecision(iterations: 100, elapsed: 2, relativeHalfWidth: 0.001) == .targetMet)
        #expect(rule.measureDecision(iterations: 100, elapsed: 2, relativeHalfWidth: 0.05) == .more)
        #expect(rule.measureDecision(iterations: 100, elapsed: 10, relativeHalfWidth: 0.05) == .maxTimeReached)
    }

    @Test func fixedIterationsOverrideTheAdaptiveRule() {
        var rule = StoppingRule()
        rule.iterations = 50
        #expect(rule.measureDecision(iterations: 49, elapsed: 100, relativeHalfWidth: 0) == .more)
        #expect(rule.measureDecision(iterations: 50, elapsed: 0, relativeHalfWidth: 1) == .fixedCountDone)
        #expect(rule.chunkSize(perIteration: 0.000001, remaining: 7) == 7)
    }

    @Test func theFirstCallAfterASwitchIsSetAside() {
        var m = CellMeasurement(perIteration: 0.001)
        let rule = StoppingRule()
        m.add(
            LatencyChunk(deviceNS: [9_000_000, 1_000_000, 1_100_000], hostNS: [9_100_000, 1_050_000, 1_150_000], clock: "cuda_event"), seconds: 0.1, rule: rule,
            repeatStart: 0, afterSwitch: true)
        m.add(LatencyChunk(deviceNS: [1_000_000, 1_200_000], hostNS: [1_050_000, 1_250_000], clock: "cuda_event"), seconds: 0.1, rule: rule, repeatStart: 0)
        #expect(m.samples.values == [1_000_000, 1_100_000, 1_000_000, 1_200_000])
        #expect(m.hostSamples.count == 4 && m.chunkSizes == [2, 2])
        #expect(m.switchCalls == [9_000_000])
    }

    @Test func aCellStopsOnlyWhenTheReportedIntervalMeetsTheTarget() {
        // The gauge (t-interval of chunk medians) approximates the reported cluster bootstrap;
        // over many seeds it stopped at least once beside a wider reported interval.
        var rule = StoppingRule()
        rule.targetCI = 0.01
        rule.minTime = 0
        rule.minIterations = 0
        for seed in 1...8 {
            var rng = SplitMix64(state: UInt64(seed))
            var m = CellMeasurement(perIteration: 0.001)
            while m.decision == .more {
                let chunk = (0..<20).map { _ in Int64(1e6 * exp(0.2 * rng.normal())) }
                m.add(LatencyChunk(deviceNS: nil, hostNS: chunk, clock: "perf_counter"), seconds: 0.02, rule: rule, repeatStart: 0)
            }
            #expect(m.decision == .targetMet)
            let chunks = ReplicateMerge.split(m.samples.values.map(Double.init), m.chunkSizes)
            let width = ClusterBootstrap.median(Clustered([chunks]))!.relativeHalfWidth
            #expect(width <= 0.01, "seed \(seed): ±\(width) after \(m.chunkSizes.count) chunks")
        }
    }

    @Test func chunksAimForATenthOfASecond() {
        // Short chunks: the intervals resample chunks, so a cell needs many of them.
        let rule = StoppingRule()
        #expect(rule.chunkSize(perIteration: 0.001) == 100)
        #expect(rule.chunkSize(perIteration: 2) == 1)
        #expect(rule.chunkSize(perIteration: 1e-9) == 5000)
    }
}

@Suite struct BimodalityTests {
    @Test func twoClustersAreFoundAndRareStallsAreNot() {
        var rng = SplitMix64(state: 11)
        let clean = (0..<2000).map { _ in 5e6 * exp(0.05 * rng.normal()) }
        #expect(Bimodality.split(clean) == nil)
        var stalls = clean
        for i in stride(from: 0, to: 2000, by: 100) { stalls[i] = 80e6 }
        #expect(Bimodality.split(stalls) == nil, "1% stalls are outliers, not a second mode")
        let twoModes = (0..<2000).map { i in (i % 5 == 0 ? 12e6 : 5e6) * exp(0.05 * rng.normal()) }
        let split = Bimodality.split(twoModes)
        #expect(split != nil)
        #expect(abs((split?.upperFraction ?? 0) - 0.2) < 0.02)
        #expect(abs((split?.upperMedian ?? 0) / 12e6 - 1) < 0.05)
    }

    /// A constant synthetic model read 2.0009–2.0035 ms and was called bimodal ("near 2.00 ms
    /// and the rest near 2.00 ms"): two tight clusters 0.1% apart are not worth a warning.
    @Test func tightClustersCloserThanFivePercentAreNotBimodal() {
        var rng = SplitMix64(state: 3)
        let tight = (0..<1000).map { i in (i % 3 == 0 ? 2.0033 : 2.0010) * exp(0.0001 * rng.normal()) }
        #expect(Bimodality.split(tight) == nil)
        #expect(Bimodality.split(tight, minRelativeGap: 0) != nil, "the clusters are there; only the gap rule keeps them quiet")
    }
}
