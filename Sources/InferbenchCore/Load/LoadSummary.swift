import Foundation

/// Turns request outcomes into the `load_tests` entries of results.json.
public enum LoadSummary {
    public static func summarize(
        _ sent: LoadGenerator.Sent, scenario: String, targetQPS: Double?, concurrency: Int?, window: Double,
        telemetry: Timeline? = nil
    ) -> LoadTestResult {
        let outcomes = sent.outcomes
        let ok = outcomes.filter { $0.status == .ok }
        let end = sent.start + sent.duration
        let completedInWindow = ok.filter { $0.completed <= end }.count
        var latency = LatencySamples()
        latency.append(contentsOf: ok.map { Int64(($0.completed - $0.scheduled) * 1e9) })
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let breakdown = LoadTestResult.Breakdown(
            queue: mean(ok.compactMap { o in o.dispatched.map { ($0 - o.scheduled) * 1000 } }),
            transport: mean(ok.compactMap { $0.transportNS.map { Double($0) / 1e6 } }),
            compute: mean(ok.compactMap { $0.computeNS.map { Double($0) / 1e6 } }),
            h2d: mean(ok.compactMap { $0.h2dNS.map { Double($0) / 1e6 } }),
            d2h: mean(ok.compactMap { $0.d2hNS.map { Double($0) / 1e6 } }))
        var breakdownWithServer = breakdown
        if let (before, after) = sent.server, let ms = after.perRequestMS(since: before) {
            (breakdownWithServer.server, breakdownWithServer.serverQueue, breakdownWithServer.serverCompute) = (ms.total, ms.queue, ms.compute)
        }
        var result = LoadTestResult(scenario: scenario)
        result.targetQPS = targetQPS
        result.achievedQPS = sent.duration > 0 ? Double(completedInWindow) / sent.duration : 0
        result.concurrency = concurrency
        result.sent = outcomes.count
        result.completed = ok.count
        result.late = sent.late
        result.dropped = outcomes.filter { $0.status == .rejected }.count
        result.errors = outcomes.filter { $0.status == .failed }.count
        let kinds = Dictionary(outcomes.compactMap { $0.failure.map { ($0.rawValue, 1) } }, uniquingKeysWith: +)
        result.errorKinds = kinds.isEmpty ? nil : kinds
        result.latencyMS = latency.summary()
        result.breakdownMS = breakdownWithServer
        result.meanBatchSizePerRequest = mean(ok.map { Double($0.batchSize) })
        (result.meanBatchSizePerBatch, result.paddingWaste) = batchFigures(ok)
        result.lengths = lengthFigures(ok)
        (result.recompiles, result.recompileReasons) = recompileFigures(outcomes)
        result.coldShapes = coldShapes(ok)
        result.durationS = sent.duration
        result.windows = windows(
            all: outcomes, start: sent.start, duration: max(sent.duration, (ok.map(\.completed).max() ?? end) - sent.start), window: window,
            telemetry: telemetry)
        result.phaseStart = sent.start
        result.phaseEnd = end
        return result
    }

    /// The mean batch size per batch, and padded samples ÷ real samples, from the requests
    /// served. A request of a batch of `b` is 1/`b` of that batch and of its padded size, so
    /// summing over requests counts each batch once without knowing which batch each came in
    /// (a batch's requests share its fate and its step).
    ///
    /// With lengths the work is tokens: a request of a batch of `b` run at `P` tokens by `B`
    /// padded samples is `B·P/b` tokens run, against its own length.
    static func batchFigures(_ ok: [RequestOutcome]) -> (perBatch: Double?, waste: Double?) {
        let served = ok.filter { $0.batchSize > 0 }
        guard !served.isEmpty else { return (nil, nil) }
        let batches = served.reduce(0) { $0 + 1 / Double($1.batchSize) }
        let padded = served.reduce(0) { $0 + Double($1.paddedBatchSize * ($1.paddedLength ?? 1)) / Double($1.batchSize) }
        let real = served.reduce(0) { $0 + Double($1.length ?? 1) }
        return (Double(served.count) / batches, padded / real)
    }

    /// Mean tokens per request before and after padding, and the longest; nil without lengths.
    static func lengthFigures(_ ok: [RequestOutcome]) -> LoadTestResult.Lengths? {
        let with = ok.filter { $0.length != nil && $0.paddedLength != nil }
        guard !with.isEmpty else { return nil }
        let n = Double(with.count)
        return LoadTestResult.Lengths(
            meanTokens: with.reduce(0) { $0 + Double($1.length!) } / n, meanPaddedTokens: with.reduce(0) { $0 + Double($1.paddedLength!) } / n,
            maxTokens: with.map { $0.length! }.max()!)
    }

    /// Recompiles (each batch's told on its first request) and their distinct reasons, the most
    /// frequent first; nil when no batch reported any.
    static func recompileFigures(_ outcomes: [RequestOutcome]) -> (Int?, [String]?) {
        let total = outcomes.reduce(0) { $0 + $1.recompiles }
        guard total > 0 else { return (nil, nil) }
        var counts: [String: Int] = [:]
        var order: [String] = []
        for reason in outcomes.flatMap(\.compileReasons) {
            if counts[reason] == nil { order.append(reason) }
            counts[reason, default: 0] += 1
        }
        let ranked = order.enumerated().sorted { (counts[$0.element]!, -$0.offset) > (counts[$1.element]!, -$1.offset) }.map(\.element)
        return (total, Array(ranked.prefix(10)))
    }

    /// The batches that were their worker's first at their shape, and their requests' latency.
    static func coldShapes(_ ok: [RequestOutcome]) -> LoadTestResult.ColdShapes? {
        let cold = ok.filter(\.coldShape).sorted { $0.completed < $1.completed }
        guard !cold.isEmpty else { return nil }
        let latencies = cold.map { ($0.completed - $0.scheduled) * 1000 }.sorted()
        var shapes: [String] = []
        for o in cold {
            let shape = BatchShape(batch: o.paddedBatchSize, length: o.paddedLength).description
            if !shapes.contains(shape) { shapes.append(shape) }
        }
        let batches = cold.reduce(0) { $0 + 1 / Double($1.batchSize) }
        return LoadTestResult.ColdShapes(
            batches: Int(batches.rounded()), requests: cold.count, shapes: shapes, p50MS: latencies[latencies.count / 2], maxMS: latencies.last)
    }

    /// Per-window figures by completion time: QPS, P50/P99, errors, and GPU figures; offered
    /// QPS by due (or send) time.
    static func windows(
        all: [RequestOutcome], start: Double, duration: Double, window: Double, telemetry: Timeline?
    ) -> [LoadTestResult.Window] {
        guard window > 0, duration > 0 else { return [] }
        let count = Int((duration / window).rounded(.up))
        return (0..<count).map { i in
            let lo = start + Double(i) * window
            let hi = min(lo + window, start + duration)
            let offered = all.filter { $0.scheduled >= lo && $0.scheduled < hi }.count
            return self.window(from: lo, to: hi, stepStart: start, completed: all, offered: offered, telemetry: telemetry, closed: i == count - 1)
        }
    }

    /// One window [from, to) of a step that began at `stepStart`: `completed` holds (at least)
    /// the requests that completed in it, whatever their status; `offered` counts the requests
    /// due or sent in it.
    ///
    /// Also used while a step runs, to record windows as they close: then `offered` comes from
    /// the schedule (open loop) or from the requests completed so far (closed loop). A `closed`
    /// window also counts what completed at `to` exactly: the step's last window ends at its
    /// last completion.
    public static func window(
        from lo: Double, to hi: Double, stepStart: Double, completed: [RequestOutcome], offered: Int, telemetry: Timeline?, closed: Bool = false
    ) -> LoadTestResult.Window {
        let inWindow = completed.filter { $0.completed >= lo && ($0.completed < hi || (closed && $0.completed == hi)) }
        let ok = inWindow.filter { $0.status == .ok }
        let lat = ok.map { ($0.completed - $0.scheduled) * 1000 }.sorted()
        func pct(_ p: Double) -> Double? { lat.isEmpty ? nil : lat[min(lat.count - 1, Int(Double(lat.count) * p))] }
        let seconds = max(hi - lo, 1e-9)
        var w = LoadTestResult.Window(
            t: lo - stepStart, seconds: hi - lo, qps: Double(ok.count) / seconds, p50: pct(0.5), p99: pct(0.99),
            errors: inWindow.count - ok.count, offeredQPS: Double(offered) / seconds, start: lo, end: hi)
        let recompiles = inWindow.reduce(0) { $0 + $1.recompiles }
        if recompiles > 0 { w.recompiles = recompiles }
        if let telemetry {
            let agg = telemetry.aggregate(from: lo, to: hi, samplesProcessed: ok.count)
            w.gpuUtil = agg.gpuUtilMean
            w.powerW = agg.powerWMean
            w.memUsedMB = agg.memUsedMBMax
            w.hostCPUUtil = agg.hostCPUUtilMean
        }
        return w
    }

    /// Findings about a long run: P99 creeping up or device memory growing across windows.
    public static func driftWarnings(_ result: LoadTestResult) -> [CellWarning] {
        var warnings: [CellWarning] = []
        if let (early, late) = p99Drift(result) {
            warnings.append(
                CellWarning(
                    kind: .p99Drift,
                    message: String(
                        format:
                            "P99 rose from %.2f ms in the first third to %.2f ms in the last third of the run; look for memory growth, thermal throttling or a leak in the serving path",
                        early, late)))
        }
        if let (first, last) = memoryGrowth(result) {
            warnings.append(
                CellWarning(
                    kind: .memoryGrowth,
                    message: String(
                        format:
                            "device memory grew from %.0f MiB to %.0f MiB during the run; a leak or a cache that never stops growing would do this", first, last
                    )))
        }
        return warnings
    }

    /// The median window P99 of the first and the last third, when the last is over 1.2× the
    /// first (six windows at least). The reports word it again from these figures.
    static func p99Drift(_ result: LoadTestResult) -> (early: Double, late: Double)? {
        let ws = result.windows.filter { $0.p99 != nil }
        guard ws.count >= 6 else { return nil }
        let third = ws.count / 3
        let early = Statistics.median(ws.prefix(third).compactMap(\.p99))
        let late = Statistics.median(ws.suffix(third).compactMap(\.p99))
        return late > early * 1.2 ? (early, late) : nil
    }

    /// The most device memory used in the first and the last third, when it grew by over 5% and 64 MiB.
    static func memoryGrowth(_ result: LoadTestResult) -> (first: Double, last: Double)? {
        let mem = result.windows.compactMap(\.memUsedMB)
        let measured = result.windows.filter { $0.p99 != nil }.count
        let third = measured / 3
        guard measured >= 6, mem.count >= 6, let first = mem.prefix(third).max(), let last = mem.suffix(third).max(), last > first * 1.05 + 64 else {
            return nil
        }
        return (first, last)
    }
}
