import Foundation

/// The figure `inferbench compare` compares, and which direction is better.
public enum CompareMetric: String, Sendable, CaseIterable {
    case p50, mean, p99, throughput

    /// Latency: lower is better. Throughput: higher is better.
    public var higherIsBetter: Bool { self == .throughput }

    /// The cell's value and its 95% interval. P99 has an interval only when the cell kept
    /// its samples (order statistics); without one the ratio's interval is unbounded.
    func value(_ cell: CellResult) -> (value: Double, interval: (Double, Double))? {
        switch self {
        case .p50: return cell.latencyMS.map { ($0.p50, ($0.ci95.p50.lower, $0.ci95.p50.upper)) }
        case .mean: return cell.latencyMS.map { ($0.mean, ($0.ci95.mean.lower, $0.ci95.mean.upper)) }
        case .throughput:
            guard let t = cell.throughputPerS else { return nil }
            return (t, cell.throughputCI95?.tuple ?? (0, .infinity))
        case .p99:
            guard let l = cell.latencyMS else { return nil }
            guard let samples = cell.samplesNS, samples.count >= 2 else { return (l.p99, (0, .infinity)) }
            let ci = Statistics.quantileInterval(sorted: samples.sorted().map { Double($0) / 1e6 }, quantile: 0.99)
            return (l.p99, (ci.lower, ci.upper))
        }
    }
}

/// Two runs cell by cell: the ratio B/A of a metric with its 95% interval.
///
/// Cells match on model and variant (compile, precision, batch, channels_last); on the
/// environment too only when both runs hold several, so that runs from different PyTorch
/// versions or machines (whose environments are named differently) still pair up. A cell
/// found on one side only, or failed on either side, is listed, not an error.
public struct RunComparison: Sendable {
    public enum Verdict: String, Sendable { case faster, slower, noSignificantDifference }

    public struct Match: Sendable {
        public var a: CellResult
        public var b: CellResult
        public var valueA: Double
        public var valueB: Double
        /// B / A with its 95% interval (delta method on logarithms).
        public var ratio: Double
        public var lower: Double
        public var upper: Double
        public var verdict: Verdict
    }

    public var metric: CompareMetric
    public var matches: [Match] = []
    /// Matched cells that cannot be compared: failed, skipped or without the metric on a side.
    public var notComparable: [(a: CellResult, b: CellResult)] = []
    public var onlyInA: [CellResult] = []
    public var onlyInB: [CellResult] = []
    public var byEnvironment: Bool

    struct Key: Hashable {
        var model: String
        var environment: String?
        var compile: CompileMode
        var precision: Precision
        var batch: Int
        var channelsLast: Bool
    }

    public init(a: RunResults, b: RunResults, metric: CompareMetric = .p50) {
        self.metric = metric
        byEnvironment = Set(a.cells.map(\.environment)).count > 1 && Set(b.cells.map(\.environment)).count > 1
        func key(_ c: CellResult) -> Key {
            Key(
                model: c.model, environment: byEnvironment ? c.environment : nil, compile: c.variant.compile,
                precision: c.variant.precision, batch: c.variant.batchSize, channelsLast: c.variant.channelsLast)
        }
        let keysB = Set(b.cells.map(key))
        let keysA = Set(a.cells.map(key))
        onlyInA = a.cells.filter { !keysB.contains(key($0)) }
        onlyInB = b.cells.filter { !keysA.contains(key($0)) }
        // With one environment on one side and several on the other, a cell pairs with each.
        for cellA in a.cells {
            for cellB in b.cells where key(cellB) == key(cellA) {
                guard cellA.status == .ok, cellB.status == .ok, let va = metric.value(cellA), let vb = metric.value(cellB) else {
                    notComparable.append((cellA, cellB))
                    continue
                }
                let r = Statistics.ratio(vb.value, vb.interval, over: va.value, va.interval)
                let significant = r.lower > 1 || r.upper < 1
                let worse = metric.higherIsBetter ? r.ratio < 1 : r.ratio > 1
                matches.append(
                    Match(
                        a: cellA, b: cellB, valueA: va.value, valueB: vb.value, ratio: r.ratio, lower: r.lower, upper: r.upper,
                        verdict: !significant ? .noSignificantDifference : worse ? .slower : .faster))
            }
        }
    }

    /// Matches significantly slower in B by more than `percent`, worst first.
    ///
    /// Latency metrics: B/A > 1 + percent/100 and the interval's lower bound > 1.
    /// Throughput: B/A < 1 − percent/100 and the interval's upper bound < 1.
    public func regressions(beyond percent: Double) -> [Match] {
        let found = matches.filter { m in
            metric.higherIsBetter ? (m.ratio < 1 - percent / 100 && m.upper < 1) : (m.ratio > 1 + percent / 100 && m.lower > 1)
        }
        return found.sorted { metric.higherIsBetter ? $0.ratio < $1.ratio : $0.ratio > $1.ratio }
    }

    /// How much slower B is, in percent of A (positive = slower), for messages.
    public func slowdownPercent(_ m: Match) -> Double {
        metric.higherIsBetter ? (1 - m.ratio) * 100 : (m.ratio - 1) * 100
    }
}
