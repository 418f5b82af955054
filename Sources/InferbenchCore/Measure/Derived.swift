import Foundation

/// Figures derived across cells: speedups with intervals and compile break-even.
public enum Derived {
    /// The eager cell a compiled cell is compared with: same model, environment, precision, batch.
    static func baseline(for cell: CellResult, in cells: [CellResult]) -> CellResult? {
        cells.first {
            $0.status == .ok && $0.variant.compile == .eager && $0.model == cell.model && $0.environment == cell.environment
                && $0.variant.precision == cell.variant.precision && $0.variant.batchSize == cell.variant.batchSize
                && $0.variant.channelsLast == cell.variant.channelsLast
        }
    }

    /// The metric of a compiled cell's speedup over its eager baseline.
    public static let speedupMetric = "p50_speedup"
    /// The metric of a cell's speedup over the same cell in the run's first environment.
    public static let environmentMetric = "p50_speedup_vs_environment"

    /// Median-latency speedups (ratio > 1: the candidate is faster): every non-eager cell over
    /// its eager baseline, then, in a run of several environments, every cell of the second
    /// and later environments over the same cell of the first (PyTorch B vs PyTorch A).
    public static func comparisons(_ cells: [CellResult]) -> [Comparison] {
        var cache = Cache()
        return comparisons(cells, cache: &cache)
    }

    /// Comparisons already computed, by the two cells and their sample counts: a run
    /// recomputes them after every step, and a bootstrap is not free.
    public struct Cache: Sendable {
        var entries: [String: Comparison] = [:]
        public init() {}
    }

    public static func comparisons(_ cells: [CellResult], cache: inout Cache) -> [Comparison] {
        func cached(_ base: CellResult, _ cell: CellResult, _ metric: String) -> Comparison? {
            let key = "\(base.id)|\(base.samplesNS?.count ?? 0)|\(cell.id)|\(cell.samplesNS?.count ?? 0)|\(metric)"
            if let hit = cache.entries[key] { return hit }
            let c = ratio(base, cell, metric: metric)
            cache.entries[key] = c
            return c
        }
        return speedups(cells, cached) + environmentSpeedups(cells, cached)
    }

    /// Baseline median over candidate median. From chunks and processes when both cells have
    /// them: paired round by round when they were measured side by side (same interleave group,
    /// same process numbers), else resampled apart. Older results: the delta method.
    static func ratio(_ base: CellResult, _ cell: CellResult, metric: String) -> Comparison? {
        ratio(base, cell, metric: metric, clustered: clusteredRatio(base, cell))
    }

    /// The comparison from a cluster bootstrap already made (``clusteredRatio(_:_:)``, perhaps
    /// moderated since), else by the delta method.
    static func ratio(
        _ base: CellResult, _ cell: CellResult, metric: String, clustered: (ClusterBootstrap.Estimate, paired: Bool)?
    ) -> Comparison? {
        guard let b = base.latencyMS, let c = cell.latencyMS else { return nil }
        if let (r, paired) = clustered {
            // The point estimate is the ratio of the medians the tables show.
            let shown = b.p50 / c.p50
            let scale = shown / r.value
            return Comparison(
                baseline: base.id, candidate: cell.id, metric: metric, ratio: shown, ci95: [r.lower * scale, r.upper * scale],
                significant: r.lower * scale > 1 || r.upper * scale < 1, paired: paired, intervalPrior: r.moderated ? r.spread?.prior : nil)
        }
        let r = Statistics.ratio(b.p50, (b.ci95.p50.lower, b.ci95.p50.upper), over: c.p50, (c.ci95.p50.lower, c.ci95.p50.upper))
        return Comparison(
            baseline: base.id, candidate: cell.id, metric: metric, ratio: r.ratio, ci95: [r.lower, r.upper], significant: r.lower > 1 || r.upper < 1)
    }

    /// The cluster bootstrap of baseline over candidate, paired when they were measured side by
    /// side; nil for cells without chunks (older results).
    static func clusteredRatio(_ base: CellResult, _ cell: CellResult) -> (ClusterBootstrap.Estimate, paired: Bool)? {
        guard let data = pairedData(base, cell) ?? unpairedData(base, cell),
            let r = ClusterBootstrap.ratio(data.base, over: data.cell, paired: data.paired, resamples: 500)
        else { return nil }
        return (r, data.paired)
    }

    /// The chunks two cells measured in the same rounds of the same processes' lifetimes.
    static func pairedData(_ a: CellResult, _ b: CellResult) -> (base: Clustered, cell: Clustered, paired: Bool)? {
        guard let ma = a.measurement, let mb = b.measurement, let group = ma.interleaveGroup, group == mb.interleaveGroup,
            let ra = ma.chunkRounds, let rb = mb.chunkRounds
        else { return nil }
        let ca = byProcess(a, rounds: ra), cb = byProcess(b, rounds: rb)
        var x: [[[Double]]] = []
        var y: [[[Double]]] = []
        for (replicate, chunksA) in ca.sorted(by: { $0.key < $1.key }) {
            guard let chunksB = cb[replicate] else { continue }
            let rounds = Set(chunksA.keys).intersection(chunksB.keys).sorted()
            guard !rounds.isEmpty else { continue }
            x.append(rounds.map { chunksA[$0]! })
            y.append(rounds.map { chunksB[$0]! })
        }
        guard x.reduce(0, { $0 + $1.count }) >= 2 else { return nil }
        return (Clustered(x), Clustered(y), true)
    }

    static func unpairedData(_ a: CellResult, _ b: CellResult) -> (base: Clustered, cell: Clustered, paired: Bool)? {
        guard a.measurement?.chunkSizes != nil, b.measurement?.chunkSizes != nil else { return nil }
        let x = ReplicateMerge.clustered(a), y = ReplicateMerge.clustered(b)
        guard x.chunkCount >= 2, y.chunkCount >= 2 else { return nil }
        return (x, y, false)
    }

    /// A cell's chunks by process number and round (merging chunks a round split in two).
    static func byProcess(_ cell: CellResult, rounds: [Int]) -> [Int: [Int: [Double]]] {
        let processes = ReplicateMerge.clustered(cell).processes
        let records = (cell.measurement?.processes ?? []).filter { $0.samples > 0 }
        guard processes.count == records.count || records.isEmpty else { return [:] }
        var out: [Int: [Int: [Double]]] = [:]
        var k = 0
        for (p, chunks) in processes.enumerated() {
            let replicate = records.isEmpty ? 1 : records[p].replicate
            for chunk in chunks {
                guard k < rounds.count else { return out }
                out[replicate, default: [:]][rounds[k], default: []].append(contentsOf: chunk)
                k += 1
            }
        }
        return out
    }

    typealias Ratio = (CellResult, CellResult, String) -> Comparison?

    static func environmentSpeedups(_ cells: [CellResult], _ ratio: Ratio) -> [Comparison] {
        guard let first = cells.first?.environment, cells.contains(where: { $0.environment != first }) else { return [] }
        return cells.compactMap { cell in
            guard cell.status == .ok, cell.environment != first,
                let base = cells.first(where: {
                    $0.status == .ok && $0.environment == first && $0.model == cell.model && $0.variant == cell.variant
                })
            else { return nil }
            return ratio(base, cell, environmentMetric)
        }
    }

    static func speedups(_ cells: [CellResult], _ ratio: Ratio) -> [Comparison] {
        cells.compactMap { cell in
            guard cell.status == .ok, cell.variant.compile != .eager, let base = baseline(for: cell, in: cells) else { return nil }
            return ratio(base, cell, speedupMetric)
        }
    }

    /// After how many calls a compiled variant has paid back its compile time, from medians,
    /// with an interval from the speedup's. "Never" (nil) when the speedup is not significantly
    /// above 1: a compile that may save nothing pays back nothing. A batch size that reused an
    /// earlier graph paid only the reuse; a deployment at that size alone would pay the lane's
    /// first compile, which `breakeven_standalone` uses.
    public static func fillBreakeven(_ cells: inout [CellResult], comparisons: [Comparison]? = nil) {
        let snapshot = cells
        let comparisons = comparisons ?? Self.comparisons(snapshot)
        for i in cells.indices {
            guard cells[i].status == .ok, cells[i].variant.compile != .eager, let compile = cells[i].coldStart?.compileS,
                let base = baseline(for: cells[i], in: snapshot), let b = base.latencyMS
            else { continue }
            let id = cells[i].id
            guard let speedup = comparisons.first(where: { $0.candidate == id && $0.baseline == base.id && $0.metric == speedupMetric }),
                speedup.ratio > 1, speedup.ci95.lower > 1
            else {
                cells[i].coldStart?.breakevenIterations = nil
                cells[i].coldStart?.breakevenCI95 = nil
                continue
            }
            // Saved per call: baseline × (1 − 1/speedup), in seconds.
            func calls(_ compile: Double, _ r: Double) -> Double { (compile / (b.p50 / 1000 * (1 - 1 / r))).rounded(.up) }
            cells[i].coldStart?.breakevenIterations = calls(compile, speedup.ratio)
            cells[i].coldStart?.breakevenCI95 = Interval(calls(compile, speedup.ci95.upper), calls(compile, speedup.ci95.lower))
            if cells[i].coldStart?.batchReuse != nil, let first = laneFirstCompile(of: cells[i], in: snapshot), first > compile {
                cells[i].coldStart?.breakevenStandalone = calls(first, speedup.ratio)
            }
        }
    }

    /// The compile time of the first shape of a cell's lane (its fresh compile): the same
    /// model at any length (`run --seq`), environment, compile mode, shape strategy, precision
    /// and memory format, loaded afresh.
    static func laneFirstCompile(of cell: CellResult, in cells: [CellResult]) -> Double? {
        let model = ModelSpec.withoutLength(cell.model)
        return cells.first {
            ModelSpec.withoutLength($0.model) == model && $0.environment == cell.environment && $0.variant.compile == cell.variant.compile
                && $0.variant.dynamic == cell.variant.dynamic && $0.variant.fullgraph == cell.variant.fullgraph
                && $0.variant.precision == cell.variant.precision && $0.variant.channelsLast == cell.variant.channelsLast
                && $0.coldStart?.batchReuse == nil
        }?.coldStart?.compileS
    }
}
