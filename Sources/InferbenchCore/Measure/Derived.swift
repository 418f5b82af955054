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
        speedups(cells) + environmentSpeedups(cells)
    }

    static func ratio(_ base: CellResult, _ cell: CellResult, metric: String) -> Comparison? {
        guard let b = base.latencyMS, let c = cell.latencyMS else { return nil }
        let r = Statistics.ratio(b.p50, (b.ci95.p50.lower, b.ci95.p50.upper), over: c.p50, (c.ci95.p50.lower, c.ci95.p50.upper))
        return Comparison(
            baseline: base.id, candidate: cell.id, metric: metric, ratio: r.ratio, ci95: [r.lower, r.upper], significant: r.lower > 1 || r.upper < 1)
    }

    static func environmentSpeedups(_ cells: [CellResult]) -> [Comparison] {
        guard let first = cells.first?.environment, cells.contains(where: { $0.environment != first }) else { return [] }
        return cells.compactMap { cell in
            guard cell.status == .ok, cell.environment != first,
                let base = cells.first(where: {
                    $0.status == .ok && $0.environment == first && $0.model == cell.model && $0.variant == cell.variant
                })
            else { return nil }
            return ratio(base, cell, metric: environmentMetric)
        }
    }

    static func speedups(_ cells: [CellResult]) -> [Comparison] {
        cells.compactMap { cell in
            guard cell.status == .ok, cell.variant.compile != .eager, let base = baseline(for: cell, in: cells) else { return nil }
            return ratio(base, cell, metric: speedupMetric)
        }
    }

    /// After how many calls a compiled variant has paid back its compile time.
    public static func fillBreakeven(_ cells: inout [CellResult]) {
        let snapshot = cells
        for i in cells.indices {
            guard cells[i].status == .ok, cells[i].variant.compile != .eager, let c = cells[i].latencyMS,
                let compile = cells[i].coldStart?.compileS, let base = baseline(for: cells[i], in: snapshot), let b = base.latencyMS
            else { continue }
            let saved = (b.mean - c.mean) / 1000
            cells[i].coldStart?.breakevenIterations = saved > 0 ? (compile / saved).rounded(.up) : nil
        }
    }
}
