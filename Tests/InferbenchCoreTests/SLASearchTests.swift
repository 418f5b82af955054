import Foundation
import Testing

@testable import InferbenchCore

@Suite struct SLASearchTests {
    static func outcome(latencyMS: Double, status: RequestOutcome.Status = .ok) -> RequestOutcome {
        RequestOutcome(status: status, scheduled: 0, completed: latencyMS / 1000, batchSize: 1, paddedBatchSize: 1)
    }

    /// A finished step at `qps` whose 1000 requests took `latencies` (ms; `.infinity`: failed),
    /// with its figures under the rule, over one second per `qps` requests.
    static func step(_ qps: Double, latencies: [Double], search: SLASearch = SLASearch(slaP99MS: 15)) -> LoadTestResult {
        let outcomes = latencies.map { $0.isFinite ? outcome(latencyMS: $0) : outcome(latencyMS: 0, status: .failed) }
        let ok = latencies.filter(\.isFinite)
        var result = LoadTestResult(scenario: "poisson \(qps)")
        result.targetQPS = qps
        result.achievedQPS = qps
        result.sent = outcomes.count
        result.completed = ok.count
        result.errors = outcomes.count - ok.count
        result.latencyMS = LatencySamples(ok.map { Int64($0 * 1_000_000) }).summary()
        result.sla = search.figures(outcomes, duration: Double(outcomes.count) / qps)
        return result
    }

    /// A step at `qps` as a system of `capacity` req/s would serve it: every request 5 ms up to
    /// capacity, 50 ms beyond.
    static func step(_ qps: Double, capacity: Double) -> LoadTestResult {
        step(qps, latencies: Array(repeating: qps <= capacity ? 5 : 50, count: 1000))
    }

    /// Runs the search against a scripted system; returns the rates it tried and what it found.
    static func search(
        _ search: SLASearch = SLASearch(slaP99MS: 15), start: Double, system: (Double, Int?) -> LoadTestResult
    ) async -> (tried: [Double], outcome: SLASearch.Outcome) {
        var tried: [Double] = []
        let found = await search.run(start: start) { qps, repeatOf in
            tried.append(qps)
            return system(qps, repeatOf)
        }
        return (tried, found)
    }

    static func search(
        _ search: SLASearch = SLASearch(slaP99MS: 15), start: Double, capacity: Double
    ) async -> (
        tried: [Double], outcome: SLASearch.Outcome
    ) {
        await Self.search(search, start: start) { qps, _ in step(qps, capacity: capacity) }
    }

    // MARK: The rule

    @Test func binomialTailsMatchHandComputedValues() {
        // Exact values (rational arithmetic): P(X ≤ k | n, 1%).
        #expect(abs(SLARule.binomialCDF(2, n: 1000, p: 0.01) - 0.002_679_431_993_79) < 1e-12)
        #expect(abs(SLARule.binomialCDF(3, n: 1000, p: 0.01) - 0.010_072_654_772_01) < 1e-12)
        #expect(abs(SLARule.binomialCDF(0, n: 459, p: 0.01) - 0.009_920_974_201_04) < 1e-12)
        #expect(abs(SLARule.binomialCDF(0, n: 458, p: 0.01) - 0.010_021_186_061_66) < 1e-12)
        #expect(abs(SLARule.binomialCDF(0, n: 100, p: 0.01) - 0.366_032_341_273_23) < 1e-12)
        #expect(SLARule.binomialCDF(-1, n: 100, p: 0.01) == 0 && SLARule.binomialCDF(100, n: 100, p: 0.01) == 1)
    }

    @Test func theRuleAllowsWhatTheBinomialTailAllows() {
        let rule = SLARule.p99
        // 3 of 1000 over: P(X ≤ 3) = 1.007% > 1%, so 3 fail and 2 pass.
        #expect(rule.passes(over: 2, of: 1000) && !rule.passes(over: 3, of: 1000))
        #expect(rule.allowedOver(1000) == 2)
        // 100 requests cannot pass even with none over (0.99¹⁰⁰ = 37%); 459 is the fewest that can.
        #expect(!rule.passes(over: 0, of: 100) && rule.allowedOver(100) == nil)
        #expect(rule.minimumRequests == 459)
        #expect(rule.allowedOver(458) == nil && rule.allowedOver(459) == 0)
        #expect(rule.allowedOver(2000) == 9 && rule.allowedOver(5000) == 33 && rule.allowedOver(10_000) == 77)
        #expect(rule.allowedOver(0) == nil)
        // A million requests: 0.98% may be over (the tail at p = 1% computed on logarithms).
        let million = rule.allowedOver(1_000_000)
        #expect(million == 9768)
        #expect(SLARule.binomialCDF(9768, n: 1_000_000, p: 0.01) <= 0.01 && SLARule.binomialCDF(9769, n: 1_000_000, p: 0.01) > 0.01)
    }

    @Test func theConservativeP99IsTheLatencyAtTheRankTheRuleAllows() {
        let rule = SLARule.p99
        // 1000 requests, the rule allows 2 over: the bound is the 3rd slowest.
        var latencies = Array(repeating: 5.0, count: 995) + [16, 17, 18, 19, 20]
        #expect(rule.bound(latencies.shuffled()) == 18)
        latencies = Array(repeating: 5.0, count: 998) + [30, 40]
        #expect(rule.bound(latencies) == 5)
        // The rank on a failed request: no bound.
        #expect(rule.bound(Array(repeating: 5.0, count: 997) + [.infinity, .infinity, .infinity]) == nil)
        #expect(rule.bound(Array(repeating: 5.0, count: 100)) == nil)
    }

    @Test func aStepsFiguresCountFailuresAndDropsAsOver() {
        let search = SLASearch(slaP99MS: 15)
        let outcomes =
            Array(repeating: Self.outcome(latencyMS: 5), count: 995) + [Self.outcome(latencyMS: 14.9), Self.outcome(latencyMS: 15.1)]
            + [Self.outcome(latencyMS: 1, status: .failed), Self.outcome(latencyMS: 0, status: .rejected), Self.outcome(latencyMS: 99)]
        let figures = search.figures(outcomes, duration: 10)
        #expect(figures.requests == 1000 && figures.over == 4 && figures.allowedOver == 2)
        #expect(abs((figures.p99BoundMS ?? 0) - 99) < 1e-9)
        #expect(figures.goodputPerS == 99.6 && figures.planned == nil)
        // Stopped early after 100 of 1000 planned: judged by the allowance of 1000 (2), the
        // bound the third slowest of the 100 sent.
        let early = search.figures(
            Array(repeating: Self.outcome(latencyMS: 5), count: 96) + [16, 17, 18, 19].map { Self.outcome(latencyMS: $0) }, duration: 1, planned: 1000)
        #expect(early.requests == 100 && early.over == 4 && early.planned == 1000 && early.allowedOver == 2)
        #expect(abs((early.p99BoundMS ?? 0) - 17) < 1e-9)
        #expect(search.figures(outcomes, duration: 10, planned: 1000).planned == nil)
    }

    // MARK: A step's verdict

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
        // A low Poisson draw: 920 arrivals in 2 s at a nominal 500/s, all served in time. It
        // kept up with what it was offered (460/s), though 458/s is under 95% of 500.
        var lowDraw = good
        (lowDraw.sent, lowDraw.completed, lowDraw.durationS, lowDraw.achievedQPS) = (920, 920, 2, 458)
        lowDraw.sla = search.figures(Array(repeating: Self.outcome(latencyMS: 5), count: 920), duration: 2)
        #expect(search.passes(lowDraw))
        lowDraw.achievedQPS = 436  // under 95% of the 460/s offered: fell behind
        #expect(!search.passes(lowDraw))
        var stopped = good
        stopped.stoppedEarly = true
        #expect(!search.passes(stopped))
        var empty = good
        empty.sent = 0
        #expect(!search.passes(empty))
        var unjudged = good
        unjudged.sla = nil
        #expect(!search.passes(unjudged))
    }

    @Test func aPlainP99WithinTheSLAIsNotEnough() {
        let search = SLASearch(slaP99MS: 15)
        // 5 of 1000 over: the plain P99 (rank 990) is 5 ms, but the rule allows 2.
        var step = Self.step(500, latencies: Array(repeating: 5, count: 995) + Array(repeating: 20, count: 5))
        #expect((step.latencyMS?.p99 ?? 99) < 6)
        search.judge(&step, repeatOf: nil)
        #expect(step.slaMet == false && abs((step.sla?.p99BoundMS ?? 0) - 20) < 1e-9 && step.sla?.close == nil)
        // Too few requests to pass, however fast.
        var short = Self.step(500, latencies: Array(repeating: 1, count: 400))
        search.judge(&short, repeatOf: nil)
        #expect(short.slaMet == false && short.sla?.allowedOver == nil && short.sla?.p99BoundMS == nil)
    }

    @Test func aPassWithin10PercentOfTheSLAIsClose() {
        let search = SLASearch(slaP99MS: 15)
        var close = Self.step(500, latencies: Array(repeating: 13.55, count: 1000))
        search.judge(&close, repeatOf: nil)
        #expect(close.slaMet == true && close.sla?.close == true)
        var clear = Self.step(500, latencies: Array(repeating: 13.45, count: 1000))
        search.judge(&clear, repeatOf: 3)
        #expect(clear.slaMet == true && clear.sla?.close == nil && clear.sla?.repeatOf == 3)
    }

    @Test func stepDurationCoversMinQueriesWithinBoundsAndTheRulesMinimum() {
        let search = SLASearch(slaP99MS: 15)
        #expect(search.duration(for: 1000) == 10)
        #expect(search.duration(for: 50) == 20)
        #expect(search.duration(for: 10) == 60)
        // 60 s at 5/s is 300 requests: too few to pass, so the cap yields to 459.
        #expect(search.duration(for: 5) == 459.0 / 5)
        for seed in 0..<20 {
            let step = search.schedule(qps: 5, seed: UInt64(seed))
            let offsets = Array(step.offsets)
            #expect(step.planned == offsets.count)
            #expect(offsets.count >= 459 && offsets.allSatisfy { $0 < step.duration })
        }
    }

    // MARK: Early stopping

    @Test func earlyStopFailsOnceMoreAreOverThanTheRuleAllows() {
        let search = SLASearch(slaP99MS: 15)
        var rule = search.earlyStop(planned: 1000)
        #expect(rule.allowed == 2)
        rule.record((0..<500).map { _ in Self.outcome(latencyMS: 5) })
        rule.record([Self.outcome(latencyMS: 20)])
        rule.record([Self.outcome(latencyMS: 1, status: .failed)])
        #expect(rule.recorded == 502)
        #expect(rule.over == 2)
        #expect(!rule.failed)
        rule.record([Self.outcome(latencyMS: 0, status: .rejected)])
        #expect(rule.over == 3)
        #expect(rule.failed)
        // A step too short to pass is left to run to its end.
        var short = search.earlyStop(planned: 300)
        short.record((0..<300).map { _ in Self.outcome(latencyMS: 50) })
        #expect(short.allowed == nil && !short.failed)
    }

    @Test func failedEarlyAgreesWithTheRunningCount() {
        let search = SLASearch(slaP99MS: 15)
        let outcomes = (0..<300).map { i in Self.outcome(latencyMS: i % 50 == 0 ? 30 : 5) }
        var rule = search.earlyStop(planned: 1000)
        rule.record(outcomes.prefix(100))
        rule.record(outcomes.dropFirst(100))
        #expect(rule.over == 6)
        #expect(rule.failed == search.failedEarly(outcomes, planned: 1000))
        #expect(rule.failed)
        #expect(!search.failedEarly(outcomes, planned: 2000))  // 9 allowed of 2000
    }

    // MARK: The search and its interval

    @Test func aRateThatFailsUnloadedEndsTheDescent() async throws {
        // Every request takes 20 ms against a 15 ms SLA, whatever the rate: halving from 1000
        // req/s, 7.8 req/s has 0.16 requests in flight (< 0.2), so no lower rate is tried
        // (without the rule the search would go on to its 10 steps, each twice as long).
        let run = await Self.search(start: 1000) { qps, _ in Self.step(qps, latencies: Array(repeating: 20, count: 1000)) }
        #expect(run.tried == [1000, 500, 250, 125, 62.5, 31.25, 15.625, 7.8125])
        #expect(run.outcome.capacity.lowerQPS == nil && run.outcome.capacity.upperQPS == 7.8125)
        let last = try #require(run.outcome.steps.last)
        #expect(SLASearch.failedUnloaded(last) && !SLASearch.failedUnloaded(run.outcome.steps[6]))
        let text = ReportText(.en).loadCapacity(run.outcome.capacity, sla: 15, steps: run.outcome.steps)
        #expect(text.hasPrefix("No rate can meet P99 ≤ 15 ms: at 7.81 requests/s, with 0.16 requests in the server"), "\(text)")
        #expect(ReportText(.zh).loadCapacity(run.outcome.capacity, sla: 15, steps: run.outcome.steps).hasPrefix("任何速率都无法满足"))
        // A passing step is never "failed unloaded", and a fast system still finds its capacity.
        #expect(!SLASearch.failedUnloaded(Self.step(1, latencies: Array(repeating: 5, count: 1000))))
        #expect(await Self.search(start: 1000, capacity: 10).outcome.capacity.lowerQPS != nil)
    }

    @Test func doublesFromBelowThenBisectsToAnInterval() async {
        let run = await Self.search(start: 300, capacity: 1000)
        #expect(run.tried == [300, 600, 1200, 900, 1050, 975, 1012.5])
        #expect(run.outcome.steps.map { $0.slaMet == true } == [true, true, false, true, false, true, false])
        // (1012.5 - 975) / 975 = 3.8% is within the 5% tolerance: the bracket is the answer.
        #expect(run.outcome.capacity == Capacity(lowerQPS: 975, upperQPS: 1012.5))
        #expect(Capacity(steps: run.outcome.steps) == run.outcome.capacity)
        #expect(run.outcome.capacity.kind == .interval && run.outcome.best == 975)
        #expect(run.outcome.steps.allSatisfy { $0.sla?.repeatOf == nil })
    }

    @Test func halvesFromAboveThenBisects() async {
        let run = await Self.search(start: 4000, capacity: 1000)
        #expect(run.tried == [4000, 2000, 1000, 1500, 1250, 1125, 1062.5, 1031.25])
        #expect(run.outcome.capacity == Capacity(lowerQPS: 1000, upperQPS: 1031.25))
    }

    @Test func aLightStepFollowsTheBracketAndDecidesNothing() async {
        var search = SLASearch(slaP99MS: 15)
        search.lightStep = true
        // Up from 600: no pass at half of 975 or less, so one step at 975 / 4.
        let up = await Self.search(search, start: 600, capacity: 1000)
        #expect(up.tried == [600, 1200, 900, 1050, 975, 1012.5, 243.75])
        #expect(up.outcome.capacity == Capacity(lowerQPS: 975, upperQPS: 1012.5))
        #expect(up.outcome.steps.last?.slaMet == true)
        // From 100: the pass at 100 (and 200) already shows light load, so no step is added.
        let low = await Self.search(search, start: 100, capacity: 1000)
        let plain = await Self.search(start: 100, capacity: 1000)
        #expect(low.tried == plain.tried)
        // Nothing passed: nothing to be light against.
        let none = await Self.search(search, start: 100, capacity: 0.1)
        let nonePlain = await Self.search(start: 100, capacity: 0.1)
        #expect(none.tried == nonePlain.tried && none.outcome.capacity.lowerQPS == nil)
    }

    @Test func theIntervalHoldsTheThresholdForAnyStart() async {
        for start in [37.0, 700, 999, 1001, 50_000] {
            let run = await Self.search(start: start, capacity: 1000)
            let c = run.outcome.capacity
            #expect(c.kind == .interval, "start \(start)")
            #expect((c.lowerQPS ?? 0) <= 1000 && (c.upperQPS ?? 0) > 1000, "start \(start): \(c)")
        }
    }

    @Test func stopsAfterMaxStepsWithTheBracketSoFar() async {
        var search = SLASearch(slaP99MS: 15)
        search.tolerance = 0
        search.maxSteps = 5
        let run = await Self.search(search, start: 300, capacity: 1000)
        #expect(run.tried == [300, 600, 1200, 900, 1050])
        #expect(run.outcome.capacity == Capacity(lowerQPS: 900, upperQPS: 1050))
    }

    @Test func nothingFailingWithinTheRangeGivesAtLeast() async {
        var search = SLASearch(slaP99MS: 15)
        search.maxSteps = 3
        let run = await Self.search(search, start: 300, capacity: 1e9)
        #expect(run.tried == [300, 600, 1200])
        #expect(run.outcome.capacity.kind == .atLeast && run.outcome.capacity.lowerQPS == 1200 && run.outcome.capacity.upperQPS == nil)
    }

    @Test func stopsAtTheGeneratorsCeilingWhenEverythingPasses() async {
        let run = await Self.search(start: 600_000, capacity: 1e12)
        #expect(run.tried == [600_000, ArrivalSchedule.maximumRate])
        #expect(run.outcome.capacity.kind == .atLeast && run.outcome.capacity.lowerQPS == ArrivalSchedule.maximumRate)
        let high = await Self.search(start: 5e6, capacity: 1e12)
        #expect(high.tried == [ArrivalSchedule.maximumRate])
    }

    @Test func givesUpBelowHalfARequestPerSecondWhenNothingPasses() async {
        // A second a request: loaded at every rate tried (0.78 in flight at the last), so only
        // the floor ends the descent.
        let run = await Self.search(start: 100) { qps, _ in Self.step(qps, latencies: Array(repeating: 1000, count: 1000)) }
        #expect(run.tried == [100, 50, 25, 12.5, 6.25, 3.125, 1.5625, 0.78125])
        #expect(run.outcome.best == nil)
        #expect(run.outcome.capacity.kind == .below && run.outcome.capacity.upperQPS == 0.78125)
        #expect(run.outcome.steps.allSatisfy { $0.slaMet == false })
    }

    @Test func aStartBelowOneIsRaisedToOne() async {
        let run = await Self.search(start: 0.2, capacity: 3)
        #expect(run.tried.prefix(3) == [1, 2, 4])
    }

    /// A system that serves 5 ms up to 1000/s, 14 ms (a close pass) up to 1100/s and 50 ms
    /// beyond; `repeatPasses` says whether the second run of a close rate passes too.
    static func flaky(_ qps: Double, repeatOf: Int?, repeatPasses: Bool) -> LoadTestResult {
        let ms: Double = qps <= 1000 ? 5 : qps <= 1100 ? (repeatOf == nil || repeatPasses ? 14 : 20) : 50
        return step(qps, latencies: Array(repeating: ms, count: 1000))
    }

    @Test func aClosePassIsRepeatedAndItsRatePassesOnlyIfBothRunsDo() async {
        let run = await Self.search(start: 1050) { Self.flaky($0, repeatOf: $1, repeatPasses: false) }
        // 1050 passes close to the SLA, its repeat fails: the rate fails. 1017.2 likewise.
        #expect(run.tried == [1050, 1050, 525, 787.5, 918.75, 984.375, 1017.1875, 1017.1875])
        let steps = run.outcome.steps
        #expect(steps.map { $0.sla?.repeatOf } == [nil, 0, nil, nil, nil, nil, nil, 6])
        #expect(steps.map { $0.slaMet == true } == [true, false, true, true, true, true, true, false])
        #expect(steps[0].sla?.close == true && steps[6].sla?.close == true && steps[2].sla?.close == nil)
        #expect(run.outcome.capacity == Capacity(lowerQPS: 984.375, upperQPS: 1017.1875))
        // The steps say the same: a rate passes only when all its runs did.
        #expect(Capacity(steps: steps) == run.outcome.capacity)
        #expect(Capacity(steps: Array(steps.prefix(2))) == Capacity(lowerQPS: nil, upperQPS: 1050))
        #expect(Capacity(steps: []).kind == .unknown)
    }

    @Test func aCloseRateThatPassesTwicePasses() async {
        let run = await Self.search(start: 1050) { Self.flaky($0, repeatOf: $1, repeatPasses: true) }
        #expect(run.tried.prefix(3) == [1050, 1050, 2100])
        #expect(run.outcome.capacity.lowerQPS ?? 0 >= 1050 && run.outcome.capacity.upperQPS ?? 0 > 1100)
        // Only close passes are repeated: fails and clear passes run once.
        let repeats = run.outcome.steps.compactMap { $0.sla?.repeatOf }
        #expect(repeats.allSatisfy { run.outcome.steps[$0].sla?.close == true })
    }

    @Test func repeatsCanBeTurnedOff() async {
        var search = SLASearch(slaP99MS: 15)
        search.repeatsCloseSteps = false
        let run = await Self.search(search, start: 1050) { Self.flaky($0, repeatOf: $1, repeatPasses: false) }
        #expect(run.tried.prefix(2) == [1050, 2100])
    }

    // MARK: Offline rounds and batching efficiency

    @Test func theOfflineIntervalIsOnTheLogRateAndNeverNegative() throws {
        // Rounds that vary wildly: a t-interval on the rates themselves goes below zero.
        let rounds = [9267.0, 11_561, 100, 20_000, 50]
        #expect(Statistics.meanInterval(rounds).lower < 0)
        let offline = try #require(OfflineThroughput(rounds: rounds, roundSeconds: 1))
        let ci = try #require(offline.ci95)
        #expect(ci.lower > 0 && ci.lower < offline.perS && offline.perS < ci.upper)
        // The estimate is the geometric mean; the interval exp(mean ± t·sd/√n) of the logs.
        let logs = rounds.map { log($0) }
        let mean = logs.reduce(0, +) / 5
        let sd = (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4).squareRoot()
        #expect(abs(offline.perS - exp(mean)) < 1e-6)
        #expect(abs(ci.lower - exp(mean - 2.776 * sd / 5.0.squareRoot())) < 1e-6)
        #expect(abs(ci.upper - exp(mean + 2.776 * sd / 5.0.squareRoot())) < 1e-6)
        // Steady rounds give a tight interval around them.
        let steady = try #require(OfflineThroughput(rounds: [9900, 10_000, 10_100, 9950, 10_050], roundSeconds: 1))
        #expect(try #require(steady.ci95).lower > 9800 && steady.ci95!.upper < 10_200)
        #expect(OfflineThroughput(rounds: [10_000], roundSeconds: 1)?.ci95 == nil)
        #expect(OfflineThroughput(rounds: [], roundSeconds: 1) == nil && OfflineThroughput(rounds: [0], roundSeconds: 1) == nil)
    }

    @Test func batchingEfficiencyCarriesBothIntervals() throws {
        var offline = try #require(OfflineThroughput(rounds: [9000, 11_000], roundSeconds: 1))
        offline.perS = 10_000
        offline.ci95 = [9000, 12_000]
        let e = try #require(BatchingEfficiency(capacity: Capacity(lowerQPS: 7174, upperQPS: 7846), offline: offline))
        #expect(e.estimate == 0.7174 && e.lower == 7174.0 / 12_000 && e.upper == 7846.0 / 9000)
        let atLeast = try #require(BatchingEfficiency(capacity: Capacity(lowerQPS: 7174, upperQPS: nil), offline: offline))
        #expect(atLeast.upper == nil && atLeast.lower == 7174.0 / 12_000)
        let below = try #require(BatchingEfficiency(capacity: Capacity(lowerQPS: nil, upperQPS: 12.5), offline: offline))
        #expect(below.estimate == nil && below.lower == 0 && below.upper == 12.5 / 9000)
        #expect(BatchingEfficiency(capacity: Capacity(lowerQPS: nil, upperQPS: nil), offline: offline) == nil)
    }

    // MARK: Fresh starts of the workers

    /// Confirms `first` on a system of `capacity`; the rates tried and the bracket found.
    static func confirm(_ first: Capacity, capacity: Double) async -> (tried: [Double], capacity: Capacity) {
        var tried: [Double] = []
        let found = await SLASearch(slaP99MS: 15).confirm(first) { qps, _ in
            tried.append(qps)
            return step(qps, capacity: capacity)
        }
        return (tried, found.capacity)
    }

    @Test func anotherStartChecksTheBracketInTwoStepsWhenItAgrees() async {
        let (tried, found) = await Self.confirm(Capacity(lowerQPS: 1000, upperQPS: 1040), capacity: 1020)
        #expect(tried == [1000, 1040])
        #expect(found.lowerQPS == 1000 && found.upperQPS == 1040)
    }

    @Test func anotherStartThatServesLessOrMoreIsBracketedAgain() async {
        // A start 30% slower: it moves down by the bracket's width, then faster, then halves.
        let (down, slower) = await Self.confirm(Capacity(lowerQPS: 1000, upperQPS: 1040), capacity: 700)
        #expect(down.first == 1000 && down.count <= 10)
        let (lo, hi) = (slower.lowerQPS ?? 0, slower.upperQPS ?? 0)
        #expect(lo <= 700 && hi > 700 && (hi - lo) / lo <= 0.05, "\(slower)")
        let (up, faster) = await Self.confirm(Capacity(lowerQPS: 1000, upperQPS: 1040), capacity: 1500)
        #expect(up.count <= 10)
        #expect((faster.lowerQPS ?? 0) <= 1500 && (faster.upperQPS ?? 0) > 1500, "\(faster)")
    }

    @Test func theCapacityOfSeveralStartsIsTheUnionOfTheirBrackets() {
        var steps: [LoadTestResult] = []
        for (replicate, capacity) in [(1, 1000.0), (2, 1100.0)] {
            for qps in [950.0, 1050, 1150] {
                var s = Self.step(qps, capacity: capacity)
                SLASearch(slaP99MS: 15).judge(&s, repeatOf: nil)
                s.replicate = replicate
                steps.append(s)
            }
        }
        let c = Capacity(steps: steps)
        #expect(c.lowerQPS == 950 && c.upperQPS == 1150, "\(c)")
        #expect(c.replicates?.map(\.lowerQPS) == [950, 1050] && c.replicates?.map(\.upperQPS) == [1050, 1150])
        #expect(Capacity.disjoint(c.replicates ?? []), "1st failed 1050, which the 2nd passed")
        #expect(!Capacity.disjoint([Capacity(lowerQPS: 950, upperQPS: 1050), Capacity(lowerQPS: 1000, upperQPS: 1100)]))
        // A start that never failed leaves no upper end; one that never passed, no lower.
        #expect(Capacity.union([Capacity(lowerQPS: 950, upperQPS: 1050), Capacity(lowerQPS: 1100, upperQPS: nil)]).kind == .atLeast)
        #expect(Capacity.union([Capacity(lowerQPS: nil, upperQPS: 100), Capacity(lowerQPS: 950, upperQPS: 1050)]).kind == .below)
        // Steps of one start keep the one-start answer, with no per-start brackets.
        #expect(Capacity(steps: Array(steps.prefix(3))).replicates == nil)
    }

    @Test func offlineRoundsOfStartsThatDisagreeGetTheStartsWideInterval() throws {
        let agree = try #require(OfflineThroughput(replicates: [[9900, 10_000, 10_100], [9950, 10_050, 10_000]], roundSeconds: 1))
        let pooled = try #require(OfflineThroughput(rounds: [9900, 10_000, 10_100, 9950, 10_050, 10_000], roundSeconds: 1))
        #expect(agree.ci95 == pooled.ci95 && agree.replicateRoundsPerS?.count == 2)
        // 9,267 vs 11,561 samples/s (two runs on an H200): steady rounds, starts 25% apart.
        let apart = try #require(OfflineThroughput(replicates: [[9250, 9267, 9280], [11_540, 11_561, 11_580]], roundSeconds: 1))
        let ci = try #require(apart.ci95)
        #expect(ci.lower < 9267 && ci.upper > 11_561, "\(ci)")
        // It spans the starts (each start's own interval), not t(1) times their spread.
        #expect(ci.lower > 9200 && ci.upper < 11_650, "\(ci)")
        #expect(OfflineThroughput(replicates: [[10_000, 10_100]], roundSeconds: 1)?.replicateRoundsPerS == nil)
    }
}
