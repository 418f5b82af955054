import Foundation

/// The facts a report states, read from a run before they are put into words (`FindingsText`).
///
/// Pure and deterministic: the same results give the same findings in the same order (the
/// order cells appear in). A model measured at one batch size has no batch-scaling finding,
/// a run without compiled variants has no cold-start finding, and a run without memory
/// figures has no memory finding: absent data is not an error, it is simply not reported.
public struct Findings: Sendable, Equatable {
    /// A ratio with its 95% interval; > 1 means faster than the reference.
    public struct Speedup: Sendable, Equatable {
        public var ratio: Double
        public var lower: Double
        public var upper: Double
        /// Measured in alternating rounds of the same processes (false: apart, e.g. another
        /// precision; nil: unknown, older results).
        public var paired: Bool? = nil
        public var significant: Bool { lower > 1 || upper < 1 }
    }

    /// Where a series of cells belongs: model, environment and variant without batch size.
    public struct Series: Sendable, Hashable {
        public var model: String
        public var environment: String
        public var family: String
    }

    /// The fastest cell (lowest p50) of one model at one batch size.
    public struct Best: Sendable, Equatable {
        public var model: String
        public var environment: String
        public var batch: Int
        public var family: String
        public var p50: Double
        /// The eager cell it is compared with (fp32 when there is one), nil when it is that cell.
        public var reference: String?
        public var speedup: Speedup?
    }

    /// Throughput over a batch sweep: the highest, and the smallest batch within 5% of it.
    public struct BatchScaling: Sendable, Equatable {
        public var series: Series
        public var bestBatch: Int
        public var bestThroughput: Double
        public var bestP50: Double
        public var knee: Int
        public var kneeThroughput: Double
        public var kneeP50: Double
        /// The largest batch measured: a peak there may climb further with larger batches.
        public var largestBatch: Int
        public var smallestBatch: Int
    }

    /// One batch size's figure within a series (compile time, break-even, memory).
    public struct PerBatch<Value: Sendable & Equatable>: Sendable, Equatable {
        public var batch: Int
        public var value: Value
    }

    public enum Payback: Sendable, Equatable {
        case after(calls: Double)
        /// Not faster than eager, so the compile time is never paid back.
        case never
    }

    /// What compiling costs in one series, and when it pays back, per batch size.
    public struct ColdStart: Sendable, Equatable {
        public var series: Series
        public var compileS: [PerBatch<Double>]
        public var payback: [PerBatch<Payback>]
    }

    /// Peak memory of a compiled series over its eager baseline, per batch size (MB).
    public struct MemoryOverhead: Sendable, Equatable {
        public struct Figure: Sendable, Equatable {
            public var eagerMB: Double
            public var variantMB: Double
        }
        public var series: Series
        /// `peak_allocated` (GPU) when both cells have it, else the worker's RSS.
        public var gpu: Bool
        /// The figures are `peak_reserved` (both cells have it), which includes CUDA-graph pools.
        public var reserved = false
        /// The figures are the worker's own GPU memory from NVML (`device_used`).
        public var own = false
        public var figures: [PerBatch<Figure>]
    }

    /// Throughput that disagrees with latency: back-to-back samples/s against batch ÷ p50.
    public struct ThroughputGap: Sendable, Equatable {
        public var series: Series
        public var batch: Int
        public var throughput: Double
        public var lower: Double
        public var upper: Double
        public var implied: Double
    }

    /// A variant significantly slower than eager at one batch size.
    public struct Slower: Sendable, Equatable {
        public var series: Series
        public var batch: Int
        public var speedup: Speedup
        public var p50: Double
        public var eagerP50: Double
        /// The eager cell's variant (`eager/fp16`): the baseline the speedup is against.
        public var reference: String
    }

    /// Something to check before trusting a figure, attached to one cell.
    public struct Warning: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case failed(kind: String, message: String, skipped: Bool)
            /// A warning the runner attached (noise, few samples, warm-up, accuracy …); its message is English.
            case cell(kind: String, message: String)
            case graphBreaks(Int, reasons: [String])
            case recompiles(Int)
            case accuracy(maxAbsErr: Double, cosine: Double)
        }
        public var model: String
        public var environment: String
        public var label: String
        public var kind: Kind
    }

    public var best: [Best] = []
    public var batchScaling: [BatchScaling] = []
    public var coldStarts: [ColdStart] = []
    public var memory: [MemoryOverhead] = []
    public var slower: [Slower] = []
    public var throughputGaps: [ThroughputGap] = []
    public var shapeStrategies: [ShapeStrategies] = []
    public var warnings: [Warning] = []
    public var failedCells = 0
    public var totalCells = 0
    /// Cells measured while other processes kept the host busy: no verdict is drawn from them.
    public var busyCells = 0
    public var incomplete = false
    /// Several environments: sentences name the environment next to the model.
    public var multiEnvironment = false
    /// A later environment against the first, over the cells both ran.
    public struct EnvironmentVerdict: Sendable, Equatable {
        public var baseline: String
        public var candidate: String
        public var compared = 0
        /// Significant ratios (> 1: the candidate is faster), as measured.
        public var faster: [Double] = []
        public var slower: [Double] = []
    }
    public var environments: [EnvironmentVerdict] = []

    public init(_ results: RunResults) {
        // A cell measured while other processes kept the host busy gets no verdict.
        let measured = results.cells.filter { $0.status == .ok && $0.latencyMS != nil }
        let ok = measured.filter { !$0.warnings.contains { $0.kind == .hostBusy } }
        busyCells = measured.count - ok.count
        totalCells = results.cells.count
        failedCells = results.cells.filter { $0.status != .ok }.count
        incomplete = results.run.status == .incomplete
        multiEnvironment = Set(results.cells.map(\.environment)).count > 1
        let comparisons = ReportData.comparisons(results)
        // A batch size with a busy cell gets no winner: the busy cell may be the real one.
        let busyGroups = Set(measured.filter { c in !ok.contains { $0.id == c.id } }.map(Self.group))
        best = Self.best(ok.filter { !busyGroups.contains(Self.group($0)) }, comparisons: comparisons)
        batchScaling = Self.batchScaling(ok)
        slower = Self.slower(ok, comparisons: comparisons)
        throughputGaps = Self.throughputGaps(ok)
        shapeStrategies = Self.shapeStrategies(ok, comparisons: comparisons)
        (coldStarts, memory) = Self.compileCosts(ok)
        warnings = Self.warnings(results.cells)
        for r in ReportData.environmentComparisons(results) {
            var i = environments.firstIndex { $0.candidate == r.cell.environment }
            if i == nil {
                environments.append(EnvironmentVerdict(baseline: r.base.environment, candidate: r.cell.environment))
                i = environments.count - 1
            }
            environments[i!].compared += 1
            if r.comparison.significant {
                if r.comparison.ratio > 1 { environments[i!].faster.append(r.comparison.ratio) } else { environments[i!].slower.append(r.comparison.ratio) }
            }
        }
    }

    /// The cells a winner is chosen among: one model, environment and batch size.
    static func group(_ cell: CellResult) -> String { "\(cell.model)|\(cell.environment)|\(cell.variant.batchSize)" }

    static func series(_ cell: CellResult) -> Series {
        Series(model: cell.model, environment: cell.environment, family: cell.variant.family)
    }

    /// The speedup of `cell` over `reference` as the run's comparisons compute it (paired where
    /// the two were measured side by side), so a conclusion and a table agree on the same pair.
    /// The run's own comparison is used when it is of the same pair (no second bootstrap).
    static func speedup(of cell: CellResult, over reference: CellResult, comparisons: [String: Comparison] = [:]) -> Speedup? {
        let recorded = comparisons[cell.id].flatMap { $0.baseline == reference.id ? $0 : nil }
        guard let c = recorded ?? Derived.ratio(reference, cell, metric: Derived.speedupMetric) else { return nil }
        return Speedup(ratio: c.ratio, lower: c.ci95.lower, upper: c.ci95.upper, paired: c.paired)
    }

    static func best(_ ok: [CellResult], comparisons: [String: Comparison] = [:]) -> [Best] {
        var seen = Set<String>()
        var out: [Best] = []
        for cell in ok {
            guard seen.insert(group(cell)).inserted else { continue }
            let peers = ok.filter { $0.model == cell.model && $0.environment == cell.environment && $0.variant.batchSize == cell.variant.batchSize }
            guard let fastest = peers.min(by: { $0.latencyMS!.p50 < $1.latencyMS!.p50 }) else { continue }
            let eager = peers.filter { $0.variant.compile == .eager }
            // The baseline of the run's recorded comparison (eager at the same precision), the
            // one the table and the chart quote: one cell has one speedup wherever it is read.
            // eager/fp32 only where none was recorded (an eager winner, or no eager cell at the
            // winner's precision).
            let recorded = comparisons[fastest.id].flatMap { c in peers.first { $0.id == c.baseline } }
            let reference = recorded ?? eager.first { $0.variant.precision == .fp32 && !$0.variant.channelsLast } ?? eager.first
            let isReference = reference?.id == fastest.id
            out.append(
                Best(
                    model: cell.model, environment: cell.environment, batch: cell.variant.batchSize, family: fastest.variant.family,
                    p50: fastest.latencyMS!.p50, reference: isReference ? nil : reference?.variant.family,
                    speedup: isReference ? nil : reference.flatMap { speedup(of: fastest, over: $0, comparisons: comparisons) }))
        }
        return out
    }

    static func batchScaling(_ ok: [CellResult]) -> [BatchScaling] {
        ReportData.seriesGroups(ok).compactMap { series, cells in
            let measured = cells.filter { $0.throughputPerS != nil }.sorted { $0.variant.batchSize < $1.variant.batchSize }
            guard Set(measured.map(\.variant.batchSize)).count >= 2,
                let top = measured.max(by: { $0.throughputPerS! < $1.throughputPerS! }),
                let knee = measured.first(where: { $0.throughputPerS! >= 0.95 * top.throughputPerS! })
            else { return nil }
            return BatchScaling(
                series: series, bestBatch: top.variant.batchSize, bestThroughput: top.throughputPerS!, bestP50: top.latencyMS!.p50,
                knee: knee.variant.batchSize, kneeThroughput: knee.throughputPerS!, kneeP50: knee.latencyMS!.p50,
                largestBatch: measured.last!.variant.batchSize, smallestBatch: measured.first!.variant.batchSize)
        }
    }

    static func slower(_ ok: [CellResult], comparisons: [String: Comparison]) -> [Slower] {
        ok.compactMap { cell in
            guard let c = comparisons[cell.id], c.significant, c.ratio < 1,
                let base = ok.first(where: { $0.id == c.baseline })
            else { return nil }
            return Slower(
                series: series(cell), batch: cell.variant.batchSize,
                speedup: Speedup(ratio: c.ratio, lower: c.ci95.lower, upper: c.ci95.upper, paired: c.paired),
                p50: cell.latencyMS!.p50, eagerP50: base.latencyMS!.p50, reference: base.variant.family)
        }
    }

    /// Back-to-back throughput that disagrees with batch ÷ p50 beyond both intervals and by
    /// more than 10% (seen on an H100: eager fp16 bs32 p50 5.52 ms, yet 3,598 samples/s = 8.9 ms
    /// a batch). Only where throughput was measured back to back.
    static func throughputGaps(_ ok: [CellResult]) -> [ThroughputGap] {
        ok.compactMap { cell in
            guard cell.throughputSource == "back_to_back", let t = cell.throughputPerS, let ci = cell.throughputCI95, let l = cell.latencyMS,
                l.p50 > 0
            else { return nil }
            let batch = Double(cell.variant.batchSize)
            let implied = batch / (l.p50 / 1000)
            let impliedLower = batch / (l.ci95.p50.upper / 1000), impliedUpper = batch / (l.ci95.p50.lower / 1000)
            let apart = ci.lower > impliedUpper || ci.upper < impliedLower
            guard apart, abs(t / implied - 1) > 0.10 else { return nil }
            return ThroughputGap(
                series: series(cell), batch: cell.variant.batchSize, throughput: t, lower: ci.lower, upper: ci.upper, implied: implied)
        }
    }

    static func compileCosts(_ ok: [CellResult]) -> ([ColdStart], [MemoryOverhead]) {
        var cold: [ColdStart] = []
        var memory: [MemoryOverhead] = []
        for (series, cells) in ReportData.seriesGroups(ok.filter { $0.variant.compile != .eager }) {
            let timed = cells.filter { $0.coldStart != nil }
            let borrowed = !timed.isEmpty && timed.allSatisfy { $0.coldStart!.batchReuse != nil }
            if !timed.isEmpty {
                cold.append(
                    ColdStart(
                        series: series,
                        // A series with no fresh load of its own (a later length of `run --seq`,
                        // whose lane compiled at another length) is charged the lane's fresh
                        // compile: what a deployment at that length alone pays. A batch sweep's
                        // series holds its fresh compile, so its range tells the story itself.
                        compileS: timed.map { cell in
                            PerBatch(
                                batch: cell.variant.batchSize,
                                value: max(cell.coldStart!.compileS, borrowed ? Derived.laneFirstCompile(of: cell, in: ok) ?? 0 : 0))
                        },
                        payback: timed.compactMap { cell in
                            // Without an eager baseline nothing is known about paying back.
                            guard Derived.baseline(for: cell, in: ok) != nil else { return nil }
                            let calls = cell.coldStart!.breakevenIterations.map { borrowed ? cell.coldStart!.breakevenStandalone ?? $0 : $0 }
                            return PerBatch(batch: cell.variant.batchSize, value: calls.map { .after(calls: $0) } ?? .never)
                        }))
            }
            let pairs = cells.compactMap { cell in Derived.baseline(for: cell, in: ok).map { (cell, $0) } }
            let gpu = !pairs.isEmpty && pairs.allSatisfy { $0.memoryMB?.peakAllocated != nil && $1.memoryMB?.peakAllocated != nil }
            // What sizes a GPU: the worker's own memory as NVML sees it (context, allocator pool,
            // CUDA graphs: on an H200, reduce-overhead resnet50 bs32 showed +70 MB there and
            // nothing in peak reserved, its graph captured before the peak reset), else reserved
            // (the allocator's slack), else allocated.
            let own = gpu && pairs.allSatisfy { $0.memoryMB?.deviceUsed != nil && $1.memoryMB?.deviceUsed != nil }
            let reserved = gpu && !own && pairs.allSatisfy { $0.memoryMB?.peakReserved != nil && $1.memoryMB?.peakReserved != nil }
            let figures: [PerBatch<MemoryOverhead.Figure>] = pairs.compactMap { cell, base in
                let pick: (CellResult) -> Double? = {
                    own ? $0.memoryMB?.deviceUsed : reserved ? $0.memoryMB?.peakReserved : gpu ? $0.memoryMB?.peakAllocated : $0.memoryMB?.workerRSS
                }
                guard let v = pick(cell), let e = pick(base) else { return nil }
                return PerBatch(batch: cell.variant.batchSize, value: .init(eagerMB: e, variantMB: v))
            }
            if !figures.isEmpty { memory.append(MemoryOverhead(series: series, gpu: gpu, reserved: reserved, own: own, figures: figures)) }
        }
        return (cold, memory)
    }

    static func warnings(_ cells: [CellResult]) -> [Warning] {
        var out: [Warning] = []
        func add(_ cell: CellResult, _ kind: Warning.Kind) {
            out.append(Warning(model: cell.model, environment: cell.environment, label: cell.variant.label, kind: kind))
        }
        for cell in cells where cell.status != .ok {
            add(cell, .failed(kind: cell.error?.kind.rawValue ?? cell.status.rawValue, message: cell.error?.message ?? "", skipped: cell.status == .skipped))
        }
        for cell in cells where cell.status == .ok {
            for w in cell.warnings { add(cell, .cell(kind: w.kind.rawValue, message: w.message)) }
            if let a = cell.accuracy, !a.withinTolerance, !cell.warnings.contains(where: { $0.kind == .accuracy }) {
                add(cell, .accuracy(maxAbsErr: a.maxAbsErr, cosine: a.cosine))
            }
            if let s = cell.compileStats, s.graphBreaks > 0 { add(cell, .graphBreaks(s.graphBreaks, reasons: s.reasons)) }
            if let s = cell.compileStats, s.recompiles > 0 { add(cell, .recompiles(s.recompiles)) }
        }
        return out
    }
}
