import Foundation
import Testing

@testable import InferbenchCore

/// Load tests that advise: a sweep that never saturated names the next levels, a batcher
/// wait that eats the latency names the setting, the knee is drawn, and percentiles the
/// requests cannot support are "—".
@Suite struct LoadAdviceTests {
    /// A closed-loop step of a 3 ms model: `queue` ms waiting in the batcher, batches of `batch`.
    static func closed(_ n: Int, achieved: Double, p50: Double = 3, queue: Double = 0.3, batch: Double = 1, requests: Int = 2000) -> LoadTestResult {
        var s = LoadTestResult(scenario: "concurrency \(n)")
        s.concurrency = n
        s.achievedQPS = achieved
        s.sent = requests
        s.completed = requests
        s.durationS = 10
        s.latencyMS = LatencySummary(
            n: requests, mean: p50, stddev: 0.1, min: p50 * 0.8, p50: p50, p90: p50 * 1.1, p95: p50 * 1.2, p99: p50 * 1.5, p999: p50 * 2,
            max: p50 * 3, ci95: .init(p50: [p50 * 0.99, p50 * 1.01], mean: [p50 * 0.99, p50 * 1.01]))
        s.breakdownMS = .init(queue: queue, transport: 0.1, compute: p50 - queue - 0.1)
        s.meanBatchSizePerRequest = batch
        return s
    }

    static func results(_ steps: [LoadTestResult], maxDelay: Double = 2) -> RunResults {
        var results = LoadFixture.results()
        results.loadTests = steps
        var info = LoadInfo(
            model: "synthetic", variant: Variant(compile: .eager, precision: .fp32, batchSize: 8), workers: 1, maxBatch: 8, maxDelayMS: maxDelay,
            maxQueue: 10_000, windowS: 10)
        info.slaP99MS = nil
        results.load = info
        return results
    }

    @Test func aSweepStillGainingAtItsLastLevelSuggestsTheNext() throws {
        let steps = [Self.closed(1, achieved: 300), Self.closed(2, achieved: 590), Self.closed(4, achieved: 1150)]
        let sweep = try #require(LoadAdvice.unsaturated(steps))
        #expect(sweep.kind == .concurrency && sweep.top == 4 && sweep.next == [8, 16])
        let md = MarkdownReport.render(Self.results(steps))
        #expect(md.contains("The sweep never saturated") && md.contains("--concurrency 8,16"), "\(md)")
        #expect(LoadReport.render(steps, load: Self.results(steps).load).contains("--concurrency 8,16"))
    }

    @Test func aSweepThatFlattenedGivesNoSuchAdvice() {
        #expect(LoadAdvice.unsaturated([Self.closed(1, achieved: 300), Self.closed(2, achieved: 560), Self.closed(4, achieved: 700)]) == nil)
        var dropped = Self.closed(4, achieved: 1150)
        dropped.dropped = 3
        #expect(LoadAdvice.unsaturated([Self.closed(2, achieved: 590), dropped]) == nil)
        // One level says nothing about where the limit is.
        #expect(LoadAdvice.unsaturated([Self.closed(4, achieved: 1150)]) == nil)
    }

    @Test func anOpenLoopThatKeptUpSuggestsHigherRates() throws {
        var step = Self.closed(1, achieved: 99)
        step.concurrency = nil
        step.scenario = "poisson 100 qps"
        step.targetQPS = 100
        let sweep = try #require(LoadAdvice.unsaturated([step]))
        #expect(sweep.kind == .rate && sweep.next == [200, 400])
        step.achievedQPS = 80
        #expect(LoadAdvice.unsaturated([step]) == nil)
    }

    /// The issue's case: at concurrency 1–4 the 2 ms max-delay was 36% of a 3 ms model's P50.
    @Test func aBatcherWaitThatIsALargeShareOfLatencyNamesTheSetting() throws {
        let steps = [
            Self.closed(1, achieved: 300, p50: 3.05, queue: 1.1), Self.closed(2, achieved: 590, p50: 3.1, queue: 1.0, batch: 1.3),
            Self.closed(4, achieved: 1150, p50: 3.3, queue: 0.9, batch: 1.4),
            Self.closed(16, achieved: 2400, p50: 6.6, queue: 3.0, batch: 7.9),
        ]
        let wait = try #require(LoadAdvice.batcherWait(steps, info: Self.results(steps).load!))
        #expect(wait.concurrency == [1, 2, 4] && wait.suggestedMS == 0)
        #expect(abs(wait.share - 1.1 / 3.05) < 1e-9)
        let text = ReportText(.en).loadBatcherWait(wait)
        #expect(text.contains("at concurrency 1–4") && text.contains("36% of P50 (3.05 ms)") && text.contains("--max-delay 0"), "\(text)")
        #expect(ReportText(.zh).loadBatcherWait(wait).contains("并发 1–4 时"))
        #expect(HTMLReport.render(Self.results(steps)).contains("lower --max-delay (now 2 ms)"))
    }

    @Test func fullBatchesOrNoDelayAreNotTheBatchersFault() {
        let full = [Self.closed(16, achieved: 2400, p50: 6.6, queue: 3.0, batch: 7.9)]
        #expect(LoadAdvice.batcherWait(full, info: Self.results(full).load!) == nil)
        let small = [Self.closed(1, achieved: 300, p50: 3.05, queue: 0.2)]
        #expect(LoadAdvice.batcherWait(small, info: Self.results(small).load!) == nil)
        let slow = [Self.closed(1, achieved: 300, p50: 3.05, queue: 1.1)]
        #expect(LoadAdvice.batcherWait(slow, info: Self.results(slow, maxDelay: 0).load!) == nil)
        // 20 ms in the queue with --max-delay 2: waiting for a busy worker, not for a batch to fill.
        let busy = [Self.closed(4, achieved: 150, p50: 26, queue: 20, batch: 1.8)]
        #expect(LoadAdvice.batcherWait(busy, info: Self.results(busy).load!) == nil)
        // Batches of three wait for something: a quarter of the delay, not none.
        let some = [Self.closed(4, achieved: 1150, p50: 3.3, queue: 1.2, batch: 3)]
        #expect(LoadAdvice.batcherWait(some, info: Self.results(some).load!)?.suggestedMS == 0.5)
    }

    @Test func theKneeChartDrawsLatencyOverAchievedRate() throws {
        let html = try #require(LoadKneeChart.render(LoadFixture.results(), ReportText(.en)))
        #expect(html.contains("chart-load-knee") && html.contains("achieved requests/s"))
        // Three steps, P50 and P99 each, and the SLA line.
        #expect(html.components(separatedBy: "<circle").count - 1 == 6)
        #expect(html.contains("P99 SLA (15 ms)") && !html.contains("under 100 requests"))
        #expect(HTMLReport.render(LoadFixture.results()).contains("chart-load-knee"))
        var one = LoadFixture.results()
        one.loadTests = [one.loadTests[0]]
        #expect(LoadKneeChart.render(one, ReportText(.en)) == nil)
    }

    @Test func aP99From40RequestsIsADashInTablesAndLeftOutOfTheKnee() throws {
        var results = LoadFixture.results()
        results.loadTests[0].latencyMS?.n = 40
        let html = try #require(LoadKneeChart.render(results, ReportText(.en)))
        #expect(html.components(separatedBy: "<circle").count - 1 == 5 && html.contains("no P99 point for a step under 100 requests"))
        let md = MarkdownReport.render(results)
        #expect(md.contains("| — |") && md.contains("completed fewer than 100 requests"), "\(md)")
        let terminal = LoadReport.render(results.loadTests, load: results.load)
        #expect(terminal.contains(" — ") && terminal.contains("too few for a P99"))
        #expect(MarkdownReport.render(results, language: .zh).contains("不足以给出 P99"))
    }

    @Test func offlineAloneWritesNoEmptyStepsTable() {
        var results = LoadFixture.results()
        results.loadTests = []
        results.load?.capacity = nil
        results.load?.slaP99MS = nil
        results.load?.bestQPS = nil
        let md = MarkdownReport.render(results)
        #expect(!md.contains("## Steps") && md.contains("Offline throughput") && !md.contains("No load step finished"), "\(md)")
        #expect(!HTMLReport.render(results).contains("<h2>Steps</h2>"))
    }

    /// The H200 case: the worker busy 90% of the time, the GPU 28%, two fresh starts whose
    /// compute per batch differed (4.0 vs 3.2 ms). A GPU-bound step or one without telemetry
    /// gets no such advice.
    @Test func aWorkerBusyWhileTheGPUIdlesIsNamedHostBound() throws {
        func telemetry(worker: Double, gpu: Double) throws -> TelemetryAggregate {
            let json = #"{"gpu_util_mean":\#(gpu),"worker_cpu_util_mean":\#(worker),"throttled":false,"throttle_reasons":[],"samples":10}"#
            return try JSONDecoder().decode(TelemetryAggregate.self, from: Data(json.utf8))
        }
        var a = Self.closed(4, achieved: 4500, p50: 7, queue: 2.5)
        a.replicate = 1
        a.breakdownMS?.compute = 4.0
        a.telemetry = try telemetry(worker: 90, gpu: 28)
        var b = Self.closed(4, achieved: 5600, p50: 6, queue: 2.2)
        b.replicate = 2
        b.breakdownMS?.compute = 3.2
        b.telemetry = try telemetry(worker: 91, gpu: 31)
        let bound = try #require(LoadAdvice.hostBound([a, b]))
        #expect(bound.achievedQPS == 5600 && bound.computeMSByStart == [4.0, 3.2] && bound.gpuUtil == 31)
        let text = ReportText(.en).loadAdvice(.hostBound(bound))
        #expect(text.contains("busy 91% of the time and the GPU 31%") && text.contains("4.00, 3.20 ms"), "\(text)")
        #expect(ReportText(.zh).loadAdvice(.hostBound(bound)).contains("主机侧受限"))
        b.telemetry = try telemetry(worker: 60, gpu: 95)
        #expect(LoadAdvice.hostBound([b]) == nil, "GPU-bound")
        b.telemetry = nil
        #expect(LoadAdvice.hostBound([b]) == nil, "no telemetry")
    }
}
