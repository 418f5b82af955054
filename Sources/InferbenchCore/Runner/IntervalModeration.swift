import Foundation

/// The last pass over a finished run: every interval whose processes disagree is recomputed
/// with the run's prior for the variance between processes (``VariancePrior``), fitted from
/// all such cells — and, apart, from all such speedups, whose paired spread is smaller.
///
/// It runs once, at the end: the prior is the run's, so it is known only when every cell is
/// in. Checkpoints before it carry each cell's own interval (`cluster_bootstrap`).
enum IntervalModeration {
    static func apply(_ results: inout RunResults, rule: StoppingRule) {
        moderateCells(&results.cells, rule: rule)
        moderateComparisons(&results, cells: results.cells)
        Derived.fillBreakeven(&results.cells, comparisons: results.comparisons)
    }

    /// Cells measured in several processes, with their data.
    static func replicated(_ cells: [CellResult]) -> [(index: Int, data: Clustered)] {
        cells.indices.compactMap { i in
            let c = cells[i]
            guard c.status == .ok, c.measurement?.intervalMethod == .clusterBootstrap else { return nil }
            let data = ReplicateMerge.clustered(c)
            return data.processes.count >= 2 ? (i, data) : nil
        }
    }

    static func moderateCells(_ cells: inout [CellResult], rule: StoppingRule) {
        let candidates = replicated(cells)
        let own = candidates.map { ClusterBootstrap.median($0.data) }
        // The moderated interval reuses each cell's variance components: no second bootstrap.
        for ((i, estimate), prior) in zip(zip(candidates.map(\.index), own), priors(own)) {
            guard let prior, let e = estimate?.moderated(by: prior), e.moderated, var summary = cells[i].latencyMS else { continue }
            summary.ci95.p50 = Interval(e.lower / 1e6, e.upper / 1e6)
            cells[i].latencyMS = summary
            cells[i].measurement?.intervalMethod = .moderatedClusterBootstrap
            cells[i].measurement?.intervalDF = e.degreesOfFreedom.isFinite ? e.degreesOfFreedom : nil
            cells[i].measurement?.intervalPrior = prior
            restateTarget(&cells[i], width: e.relativeHalfWidth, rule: rule)
        }
    }

    static func moderateComparisons(_ results: inout RunResults, cells: [CellResult]) {
        let byID = Dictionary(cells.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let pairs = results.comparisons.indices.compactMap { i -> (Int, CellResult, CellResult)? in
            let c = results.comparisons[i]
            guard let base = byID[c.baseline], let cell = byID[c.candidate],
                (base.measurement?.processes?.count ?? 0) >= 2 || (cell.measurement?.processes?.count ?? 0) >= 2
            else { return nil }
            return (i, base, cell)
        }
        let own = pairs.map { Derived.clusteredRatio($0.1, $0.2) }
        for ((i, base, cell), (clustered, prior)) in zip(pairs, zip(own, priors(own.map { $0?.0 }))) {
            guard let prior, let (estimate, paired) = clustered, let e = estimate.moderated(by: prior), e.moderated,
                let moderated = Derived.ratio(base, cell, metric: results.comparisons[i].metric, clustered: (e, paired))
            else { continue }
            results.comparisons[i] = moderated
        }
    }

    /// The prior for each estimate whose processes disagree (nil for the others), from all of
    /// them, following their chunk noise (``VariancePrior/fitTrend(_:)``).
    static func priors(_ estimates: [ClusterBootstrap.Estimate?]) -> [VariancePrior?] {
        let usable = estimates.indices.filter { estimates[$0]?.processVariance != nil }
        let fitted = VariancePrior.fitTrend(
            usable.map { i in
                let e = estimates[i]!
                return (e.processVariance!, e.processDF ?? 1, log(e.chunkVariance ?? .nan))
            })
        guard fitted.compactMap({ $0 }).count > 0 else { return estimates.map { _ in nil } }
        var out = [VariancePrior?](repeating: nil, count: estimates.count)
        for (k, i) in usable.enumerated() { out[i] = fitted[k] }
        return out
    }

    /// The "interval wider than the target" warning, said again with the moderated width, or
    /// dropped when the moderated interval meets the target.
    static func restateTarget(_ cell: inout CellResult, width: Double, rule: StoppingRule) {
        guard let k = cell.warnings.firstIndex(where: { $0.kind == .targetCINotMet }) else { return }
        guard width > rule.targetCI else {
            cell.warnings.remove(at: k)
            return
        }
        cell.warnings[k].message = Outliers.targetMessage(width: width, rule: rule)
    }
}
