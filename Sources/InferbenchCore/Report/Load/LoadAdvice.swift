import Foundation

/// What a load test's steps suggest doing next, found from the results alone.
///
/// No advice is not an error: a sweep that saturated, or batches that filled, need none.
enum LoadAdvice: Equatable {
    /// A sweep whose throughput was still rising at its last level: the limit lies beyond the
    /// levels tried, and `next` continues the sweep's own progression.
    case unsaturated(Sweep)
    /// Requests waited for batches that never filled: the `--max-delay` wait is a large share
    /// of the latency, and lowering it (to `suggestedMS`) gives that time back.
    case batcherWait(BatcherWait)
    /// The worker was busy nearly all the time while the GPU idled: the worker's host side
    /// (Python, kernel launches) bounds what it serves, not the GPU.
    case hostBound(HostBound)
    /// With `--seq-len`: how much of the work the length padding wasted.
    case padding(Padding)
    /// torch.compile recompiled while requests were being measured: those batches waited.
    case recompiles(Recompiles)
    /// Batches ran at a shape their worker had not run before (not warmed, or evicted).
    case coldShapes(Cold)

    struct Padding: Equatable {
        /// Tokens (`--seq-len`) or image sides (`--image-size`, batched by equal size).
        var axis: LengthAxis = .seq
        var padTo: String
        var buckets: Int
        /// Over the steps: the mean tokens a request held and ran at, and tokens run ÷ held
        /// (lowest and highest step).
        var meanTokens: Double
        var meanPaddedTokens: Double
        var waste: ClosedRange<Double>
    }

    struct Recompiles: Equatable {
        var total: Int
        var scenarios: [String]
        /// The most frequent reasons first.
        var reasons: [String]
        /// `--warmup-shapes` as given (all, none, lengths).
        var warmup: String?
    }

    struct Cold: Equatable {
        var batches: Int
        var requests: Int
        var shapes: [String]
        /// The cold requests' P50 (the step's with the most) against all requests' P50 there.
        var p50MS: Double
        var stepP50MS: Double
        var maxMS: Double
        var warmup: String?
    }

    struct HostBound: Equatable {
        /// The busiest step that met its SLA (or the busiest step, without an SLA).
        var scenario: String
        var achievedQPS: Double
        /// Mean busy percentage of the worker process (100: one CPU all the time) and of the GPU.
        var workerCPU: Double
        var gpuUtil: Double
        /// Mean compute time per batch of each fresh start of the workers, when there were several.
        var computeMSByStart: [Double]
    }

    struct Sweep: Equatable {
        enum Kind: Equatable { case concurrency, rate }
        var kind: Kind
        /// The highest level tried (clients, or requests/s) and what it achieved.
        var top: Double
        var achievedQPS: Double
        /// Throughput of the last level ÷ the one before it (1.9 when 4 → 8 clients nearly doubled it).
        var gain: Double?
        var next: [Double]
    }

    struct BatcherWait: Equatable {
        /// The steps it concerns, in the order they ran.
        var scenarios: [String]
        /// Their concurrency levels, when all are closed-loop steps (`1–4` reads better than a list).
        var concurrency: [Int]
        /// The step with the largest share: its mean queue wait, P50 and mean batch per request
        /// (what a waiting request saw, and a figure older results also have).
        var queueMS: Double
        var p50MS: Double
        var meanBatch: Double
        var maxBatch: Int
        var maxDelayMS: Double
        var suggestedMS: Double
        var share: Double { queueMS / p50MS }
    }

    /// The advice for a finished (or partly finished) load test.
    static func of(_ results: RunResults) -> [LoadAdvice] { of(steps: results.loadTests, load: results.load) }

    /// Steps of an SLA search are left out of the sweep and batching advice (the search chose their
    /// rates and says where the limit is), not of what bounds the worker.
    static func of(steps all: [LoadTestResult], load: LoadInfo?) -> [LoadAdvice] {
        let steps = all.filter { $0.partial != true && $0.sla == nil }
        var out: [LoadAdvice] = []
        if let sweep = unsaturated(steps) { out.append(.unsaturated(sweep)) }
        if let load, let wait = batcherWait(steps, info: load) { out.append(.batcherWait(wait)) }
        if let bound = hostBound(all) { out.append(.hostBound(bound)) }
        return out + shapes(all.filter { $0.partial != true }, load: load)
    }

    /// What variable lengths cost: the padding (whenever --seq-len was given), the recompiles
    /// during measurement, and the batches that ran cold.
    static func shapes(_ steps: [LoadTestResult], load: LoadInfo?) -> [LoadAdvice] {
        var out: [LoadAdvice] = []
        let measured = steps.filter { $0.lengths != nil }
        if let load, load.seqLen != nil, !measured.isEmpty {
            let wastes = measured.compactMap(\.paddingWaste)
            let n = Double(measured.count)
            out.append(
                .padding(
                    Padding(
                        axis: load.lengthAxis ?? .seq, padTo: load.padTo ?? "none", buckets: load.lengthBuckets?.count ?? 0,
                        meanTokens: measured.reduce(0) { $0 + $1.lengths!.meanTokens } / n,
                        meanPaddedTokens: measured.reduce(0) { $0 + $1.lengths!.meanPaddedTokens } / n,
                        waste: (wastes.min() ?? 1)...(wastes.max() ?? 1))))
        }
        let recompiling = steps.filter { ($0.recompiles ?? 0) > 0 }
        if !recompiling.isEmpty {
            out.append(
                .recompiles(
                    Recompiles(
                        total: recompiling.reduce(0) { $0 + $1.recompiles! }, scenarios: recompiling.map(\.scenario),
                        reasons: Array(recompiling.flatMap { $0.recompileReasons ?? [] }.uniqued().prefix(3)), warmup: load?.warmupShapes)))
        }
        let cold = steps.filter { $0.coldShapes != nil }
        if let worst = cold.max(by: { $0.coldShapes!.requests < $1.coldShapes!.requests }), let p50 = worst.coldShapes!.p50MS,
            let stepP50 = worst.latencyMS?.p50
        {
            out.append(
                .coldShapes(
                    Cold(
                        batches: cold.reduce(0) { $0 + $1.coldShapes!.batches }, requests: cold.reduce(0) { $0 + $1.coldShapes!.requests },
                        shapes: Array(cold.flatMap(\.coldShapes!.shapes).eachOnce()), p50MS: p50, stepP50MS: stepP50,
                        maxMS: cold.compactMap(\.coldShapes!.maxMS).max() ?? p50, warmup: load?.warmupShapes)))
        }
        return out
    }

    /// Host-bound: at the busiest step that met its SLA the worker was busy ≥ 85% of the time
    /// and the GPU ≤ 60%. (Seen on an H200: resnet50 fp16 `default` at 5,623 requests/s, worker
    /// 90%, GPU 28%, and compute per batch 4.0 vs 3.2 ms between two fresh starts — the regime
    /// in which a cloud VM's processes differ.)
    static func hostBound(_ steps: [LoadTestResult]) -> HostBound? {
        let kept = steps.filter { $0.partial != true && $0.completed > 0 }
        let passing = kept.filter { $0.sla != nil ? $0.slaMet == true : true }
        guard let busiest = passing.max(by: { $0.achievedQPS < $1.achievedQPS }), let t = busiest.telemetry,
            let worker = t.workerCPUUtilMean, let gpu = t.gpuUtilMean, worker >= 85, gpu <= 60
        else { return nil }
        let starts = Dictionary(grouping: kept.filter { $0.replicate != nil }, by: { $0.replicate! })
        let compute = starts.keys.sorted().compactMap { k in
            let c = starts[k]!.compactMap { $0.breakdownMS?.compute }
            return c.isEmpty ? nil : Statistics.median(c)
        }
        return HostBound(
            scenario: busiest.scenario, achievedQPS: busiest.achievedQPS, workerCPU: worker, gpuUtil: gpu,
            computeMSByStart: compute.count > 1 ? compute : [])
    }

    /// A concurrency sweep is saturated once doubling the clients no longer adds at least half
    /// again as much throughput (r× the clients must give ≥ 1 + (r − 1)/2 × the rate), or
    /// once its last level dropped or failed requests. Open-loop steps at fixed rates are
    /// unsaturated when the highest kept up (≥ 95% achieved, nothing dropped) and its P99 stayed
    /// within 3× its P50, the sign of a queue that does not build.
    static func unsaturated(_ steps: [LoadTestResult]) -> Sweep? {
        let closed = steps.filter { $0.concurrency != nil }.sorted { $0.concurrency! < $1.concurrency! }
        if let last = closed.last, closed.count >= 2, last.dropped == 0, last.errors == 0 {
            let before = closed[closed.count - 2]
            let (c1, c2) = (Double(before.concurrency!), Double(last.concurrency!))
            guard before.achievedQPS > 0 else { return nil }
            let ratio = c2 / c1
            let gain = last.achievedQPS / before.achievedQPS
            guard gain >= 1 + (ratio - 1) / 2 else { return nil }
            let next = [c2 * ratio, c2 * ratio * ratio].map { $0.rounded() }
            return Sweep(kind: .concurrency, top: c2, achievedQPS: last.achievedQPS, gain: gain, next: next)
        }
        let open = steps.filter { $0.concurrency == nil && $0.rampQPS == nil && $0.targetQPS != nil }
        guard let last = open.max(by: { $0.targetQPS! < $1.targetQPS! }), let target = last.targetQPS, target > 0 else { return nil }
        let keptUp = last.achievedQPS >= 0.95 * target && last.dropped == 0 && last.errors == 0
        let steady = last.latencyMS.map { l in l.supportedP99.map { $0 <= 3 * l.p50 } ?? true } ?? false
        guard keptUp && steady else { return nil }
        return Sweep(kind: .rate, top: target, achievedQPS: last.achievedQPS, gain: nil, next: [2 * target, 4 * target])
    }

    /// Batching delay is to blame when requests waited at least a quarter of `--max-delay` on
    /// average, that wait is ≥ 20% of P50, and batches stayed below `--max-batch` (so they were
    /// waiting for a batch to fill, not for a busy worker). The suggestion is no delay where
    /// batches held barely more than one request (waiting bought nothing), else a quarter of it.
    static func batcherWait(_ steps: [LoadTestResult], info: LoadInfo) -> BatcherWait? {
        guard info.maxDelayMS > 0 else { return nil }
        let hit = steps.compactMap { s -> (LoadTestResult, Double, Double, Double)? in
            guard let queue = s.breakdownMS?.queue, let p50 = s.latencyMS?.p50, p50 > 0, let batch = s.meanBatchSizePerRequest else { return nil }
            // A batch waits at most --max-delay to fill: queueing well beyond it is for a busy
            // worker (resnet18 on a CPU: 42.5 ms in the queue with --max-delay 2), not the batcher.
            let waited =
                queue >= info.maxDelayMS / 4 && queue <= info.maxDelayMS * 1.5 && queue / p50 >= 0.2 && batch < Double(info.maxBatch) * 0.9
            return waited ? (s, queue, p50, batch) : nil
        }
        guard let worst = hit.max(by: { $0.1 / $0.2 < $1.1 / $1.2 }) else { return nil }
        let levels = hit.compactMap(\.0.concurrency)
        let suggested = hit.allSatisfy { $0.3 <= 1.5 } ? 0 : (info.maxDelayMS / 4 * 100).rounded() / 100
        return BatcherWait(
            scenarios: hit.map(\.0.scenario), concurrency: levels.count == hit.count ? levels : [], queueMS: worst.1, p50MS: worst.2,
            meanBatch: worst.3, maxBatch: info.maxBatch, maxDelayMS: info.maxDelayMS, suggestedMS: suggested)
    }
}

extension Sequence where Element: Hashable {
    /// The elements in their first order, each once.
    fileprivate func eachOnce() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
