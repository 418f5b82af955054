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

    /// Median-latency speedup of every non-eager cell over its eager baseline (ratio > 1 is faster).
    public static func comparisons(_ cells: [CellResult]) -> [Comparison] {
        cells.compactMap { cell in
            guard cell.status == .ok, cell.variant.compile != .eager, let c = cell.latencyMS,
                let base = baseline(for: cell, in: cells), let b = base.latencyMS
            else { return nil }
            let r = Statistics.ratio(b.p50, (b.ci95.p50[0], b.ci95.p50[1]), over: c.p50, (c.ci95.p50[0], c.ci95.p50[1]))
            return Comparison(
                baseline: base.id, candidate: cell.id, metric: "p50_speedup", ratio: r.ratio, ci95: [r.lower, r.upper],
                significant: r.lower > 1 || r.upper < 1)
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
