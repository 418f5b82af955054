import Foundation

/// Groupings of a run's cells shared by the Markdown and HTML reports and the findings.
/// Every grouping keeps the order in which cells appear in results.json.
enum ReportData {
    /// Speedup over eager keyed by the compiled cell's id: the run's own comparisons, or,
    /// for a results file written without them, the same figures derived from its cells.
    static func comparisons(_ results: RunResults) -> [String: Comparison] {
        let list = results.comparisons.isEmpty ? Derived.comparisons(results.cells) : results.comparisons
        return Dictionary(
            list.filter { $0.metric == Derived.speedupMetric }.map { ($0.candidate, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The variant each speedup is against (`eager/fp16`), by the compared cell's id: named
    /// wherever the speedup is shown, so that the same cell is read against the same baseline.
    static func baselineNames(_ results: RunResults, _ comparisons: [String: Comparison]) -> [String: String] {
        let byID = Dictionary(results.cells.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return comparisons.compactMapValues { byID[$0.baseline]?.variant.family }
    }

    /// Each cell of a later environment against the same cell of the first, in cell order.
    static func environmentComparisons(_ results: RunResults) -> [(base: CellResult, cell: CellResult, comparison: Comparison)] {
        let list = results.comparisons.isEmpty ? Derived.comparisons(results.cells) : results.comparisons
        let byID = Dictionary(results.cells.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return list.filter { $0.metric == Derived.environmentMetric }.compactMap { c in
            guard let base = byID[c.baseline], let cell = byID[c.candidate] else { return nil }
            return (base, cell, c)
        }
    }

    /// Model names in order of first appearance.
    static func models(_ results: RunResults) -> [String] {
        var seen = Set<String>()
        return results.cells.map(\.model).filter { seen.insert($0).inserted }
    }

    /// Cells grouped by model, environment and variant without batch size (a batch sweep).
    static func seriesGroups(_ cells: [CellResult]) -> [(Findings.Series, [CellResult])] {
        var order: [Findings.Series] = []
        var groups: [Findings.Series: [CellResult]] = [:]
        for cell in cells {
            let key = Findings.series(cell)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(cell)
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// A series' name in a sentence or legend: `default/fp32`, with `[env]` when several environments ran.
    static func name(_ series: Findings.Series, multiEnvironment: Bool) -> String {
        multiEnvironment ? "\(series.family) [\(series.environment)]" : series.family
    }

    /// Batch sizes of a model, ascending.
    static func batches(_ cells: [CellResult]) -> [Int] {
        Array(Set(cells.map(\.variant.batchSize))).sorted()
    }

    /// A timestamp for a reader: `2025-11-26 13:21 UTC` (the same in every language).
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date) + " UTC"
    }

    /// The report's title: what was measured.
    static func title(_ results: RunResults, _ t: ReportText) -> String {
        let models = models(results)
        return models.isEmpty ? t.title : t.punctuated("\(t.title): \(models.joined(separator: ", "))")
    }

    /// What the 95% CI column covers: processes and chunks (cluster bootstrap), or iterations
    /// (older results).
    public static func intervalNote(_ results: RunResults, _ t: ReportText = ReportText(.en)) -> String {
        let clustered = results.cells.filter { $0.measurement?.intervalMethod == .clusterBootstrap }
        guard !clustered.isEmpty else { return t.intervalNote(processes: nil, fresh: false) }
        let counts = clustered.map { ($0.measurement?.processes ?? []).filter { $0.samples > 0 }.count }
        let lo = counts.min() ?? 1, hi = counts.max() ?? 1
        return t.intervalNote(processes: lo == hi ? "\(lo)" : "\(lo)–\(hi)", fresh: hi != 1)
    }
}
