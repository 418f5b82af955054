import Foundation
import Testing

@testable import InferbenchCore

@Suite struct SLASearchTests {
    /// A step at `qps` as a system of `capacity` req/s would serve it: P99 5 ms up to
    /// capacity, 50 ms beyond.
    static func step(_ qps: Double, capacity: Double) -> LoadTestResult {
        var result = LoadTestResult(scenario: "poisson \(qps)")
        result.targetQPS = qps
        result.achievedQPS = qps
        result.sent = 1000
        result.completed = 1000
        let ms: Int64 = qps <= capacity ? 5 : 50
        result.latencyMS = LatencySamples(Array(repeating: ms * 1_000_000, count: 1000)).summary()
        return result
    }

    /// Runs the search against a scripted system; returns the rates it tried and what it found.
    static func search(_ search: SLASearch = SLASearch(slaP99MS: 15), start: Double, capacity: Double) async -> (tried: [Double], best: Double?, passed: [Bool])
    {
        var tried: [Double] = []
        let found = await search.run(start: start) { qps in
            tried.append(qps)
            return step(qps, capacity: capacity)
        }
        return (tried, found.best, found.steps.map { $0.slaMet == true })
    }

    @Test func doublesFromBelowThenBisectsToWithinTolerance() async {
        let run = await Self.search(start: 300, capacity: 1000)
        #expect(run.tried == [300, 600, 1200, 900, 1050, 975, 1012.5])
        #expect(run.passed == [true, true, false, true, false, true, false])
        // (1012.5 - 975) / 975 = 3.8% is within the 5% tolerance: the best pass is the answer.
        #expect(run.best == 975)
    }

    @Test func halvesFromAboveThenBisects() async {
        let run = await Self.search(start: 4000, capacity: 1000)
        #expect(run.tried == [4000, 2000, 1000, 1500, 1250, 1125, 1062.5, 1031.25])
        #expect(run.best == 1000)
    }

    @Test func stopsAfterMaxStepsWithTheBestPassSoFar() async {
        var search = SLASearch(slaP99MS: 15)
        search.tolerance = 0
        search.maxSteps = 5
        let run = await Self.search(search, start: 300, capacity: 1000)
        #expect(run.tried == [300, 600, 1200, 900, 1050])
        #expect(run.best == 900)
    }

    @Test func givesUpBelowHalfARequestPerSecondWhenNothingPasses() async {
        let run = await Self.search(start: 100, capacity: 0)
        #expect(run.tried == [100, 50, 25, 12.5, 6.25, 3.125, 1.5625, 0.78125])
        #expect(run.best == nil)
        #expect(run.passed.allSatisfy { !$0 })
    }

    @Test func aStartBelowOneIsRaisedToOne() async {
        let run = await Self.search(start: 0.2, capacity: 3)
        #expect(run.tried.prefix(3) == [1, 2, 4])
    }

    @Test func aStepPassesOnlyWhenEveryConditionHolds() {
        let search = SLASearch(slaP99MS: 15)
        let good = Self.step(500, capacity: 1000)
        #expect(search.passes(good))
        #expect(!search.passes(Self.step(1500, capacity: 1000)))
        var dropped = good
        dropped.dropped = 1
        #expect(!search.passes(dropped))
        var errors = good
        errors.errors = 10  // 1% of 1000 is not under 1%
        #expect(!search.passes(errors))
        errors.errors = 9
        #expect(search.passes(errors))
        var slow = good
        slow.achievedQPS = 474  // under 95% of 500
        #expect(!search.passes(slow))
        slow.achievedQPS = 475
        #expect(search.passes(slow))
        var stopped = good
        stopped.stoppedEarly = true
        #expect(!search.passes(stopped))
        var empty = good
        empty.sent = 0
        #expect(!search.passes(empty))
    }

    @Test func stepDurationCoversMinQueriesWithinBounds() {
        let search = SLASearch(slaP99MS: 15)
        #expect(search.duration(for: 1000) == 10)
        #expect(search.duration(for: 50) == 20)
        #expect(search.duration(for: 10) == 60)
    }

    static func outcome(latencyMS: Double, status: RequestOutcome.Status = .ok) -> RequestOutcome {
        RequestOutcome(status: status, scheduled: 100, completed: 100 + latencyMS / 1000, batchSize: 1, paddedBatchSize: 1)
    }

    @Test func earlyStopFailsOnceOverOnePercentOfPlannedMissTheSLA() {
        let search = SLASearch(slaP99MS: 15)
        var rule = search.earlyStop(planned: 1000)
        rule.record((0..<500).map { _ in Self.outcome(latencyMS: 5) })
        rule.record((0..<9).map { _ in Self.outcome(latencyMS: 20) })
        rule.record([Self.outcome(latencyMS: 1, status: .failed)])
        #expect(rule.recorded == 510)
        #expect(rule.over == 10)
        #expect(!rule.failed)  // 10 is not over 1% of 1000
        rule.record([Self.outcome(latencyMS: 0, status: .rejected)])
        #expect(rule.over == 11)
        #expect(rule.failed)
    }

    @Test func failedEarlyAgreesWithTheRunningCount() {
        let search = SLASearch(slaP99MS: 15)
        let outcomes = (0..<300).map { i in Self.outcome(latencyMS: i % 50 == 0 ? 30 : 5) }
        var rule = search.earlyStop(planned: 500)
        rule.record(outcomes.prefix(100))
        rule.record(outcomes.dropFirst(100))
        #expect(rule.over == 6)
        #expect(rule.failed == search.failedEarly(outcomes, planned: 500))
        #expect(rule.failed)
        #expect(!search.failedEarly(outcomes, planned: 600))
    }
}
