import Foundation

@testable import InferbenchCore

/// A load test built in code: a search for the highest rate under a 15 ms P99 SLA on one
/// GPU, three steps of four 1-second windows on the monotonic clock from t = 100 s, with GPU
/// samples every 0.25 s. Step 1 (200/s) passes, step 2 (400/s) fails with drops and a P99
/// far over the SLA, step 3 (300/s) passes: capacity 300–400/s. Offline throughput was measured
/// in five rounds around 500 samples/s.
enum LoadFixture {
    static let starts: [Double] = [100, 106, 112]
    static let rates: [Double] = [200, 400, 300]

    static func step(_ i: Int) -> LoadTestResult {
        let rate = rates[i]
        let overloaded = rate > 350
        var s = LoadTestResult(scenario: String(format: "poisson %.1f qps", rate))
        s.targetQPS = rate
        s.phaseStart = starts[i]
        s.phaseEnd = starts[i] + 4
        s.durationS = 4
        s.windows = (0..<4).map { k in
            let start = starts[i] + Double(k)
            return LoadTestResult.Window(
                t: Double(k), seconds: 1, qps: overloaded ? 320 : rate, p50: overloaded ? 40 + 30 * Double(k) : 5, p99: overloaded ? 90 + 60 * Double(k) : 11,
                errors: overloaded && k >= 2 ? 12 : 0, gpuUtil: overloaded ? 99 : 60, powerW: 250, memUsedMB: 20_000, offeredQPS: rate, start: start,
                end: start + 1)
        }
        s.sent = Int(rate * 4)
        s.completed = s.windows.reduce(0) { $0 + Int($1.qps) }
        s.dropped = overloaded ? 24 : 0
        s.achievedQPS = Double(s.completed) / 4
        s.latencyMS = LatencySummary(
            n: s.completed, mean: overloaded ? 80 : 6, stddev: 1, min: 3, p50: overloaded ? 70 : 5, p90: overloaded ? 200 : 9,
            p95: overloaded ? 240 : 10, p99: overloaded ? 260 : 11, p999: overloaded ? 280 : 12, max: overloaded ? 290 : 13,
            ci95: .init(p50: [4.9, 5.1], mean: [5.9, 6.1]))
        s.breakdownMS = .init(queue: 1, transport: 0.4, compute: 4)
        s.meanBatchSizePerRequest = 4.5
        s.meanBatchSizePerBatch = 3.9
        s.paddingWaste = 1.07
        s.slaMet = !overloaded
        let over = [0, 420, 1][i]
        s.sla = LoadTestResult.SLAFigures(
            requests: s.sent, over: over, allowedOver: SLARule.p99.allowedOver(s.sent), p99BoundMS: [11.5, nil, 12.5][i],
            goodputPerS: Double(s.sent - over) / 4)
        if overloaded { s.warnings = [CellWarning(kind: "errors", message: "24 requests were rejected")] }
        return s
    }

    static func timeline() -> Timeline {
        let gpu = stride(from: 99.0, through: 117, by: 0.25).map { t in
            GPUSample(t: t, gpu: 0, smUtil: t >= 106 && t < 110 ? 99 : 60, powerW: t >= 106 && t < 110 ? 340 : 250, powerLimitW: 350)
        }
        let host = stride(from: 99.0, through: 117, by: 0.25).map { HostSample(t: $0 + 0.01, cpuUtil: 30) }
        return Timeline(interval: 0.25, gpu: gpu, host: host)
    }

    static func results() -> RunResults {
        var results = ReportFixture.results()
        results.run.id = "20251124-170000-load01"
        results.run.command = "inferbench load --model resnet50 --find-max-qps --sla-p99 15 --window 1s"
        results.run.plan = nil
        results.cells = []
        results.comparisons = []
        results.loadTests = (0..<3).map(step)
        var info = LoadInfo(
            model: "resnet50", variant: Variant(compile: .default, precision: .fp16, batchSize: 8), workers: 1, maxBatch: 8, maxDelayMS: 2,
            maxQueue: 10_000, windowS: 1, slaP99MS: 15, batchBuckets: [1, 8])
        let offline = OfflineThroughput(rounds: [480, 490, 500, 510, 520], roundSeconds: 1)!
        info.offline = offline
        info.offlineThroughputPerS = offline.perS
        info.bestQPS = 300
        info.capacity = Capacity(lowerQPS: 300, upperQPS: 400)
        info.batchingEfficiency = BatchingEfficiency(capacity: info.capacity!, offline: offline)
        results.load = info
        results.telemetry = timeline()
        return results
    }
}
