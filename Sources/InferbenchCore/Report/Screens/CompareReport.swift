import Foundation

/// The terminal table of `inferbench compare`: a pure function of the comparison.
public enum CompareReport {
    /// One side of a comparison, as named on the command line.
    public struct Side: Sendable {
        public var path: String
        public var results: RunResults

        public init(path: String, results: RunResults) {
            self.path = path
            self.results = results
        }

        var summary: String {
            let env = results.environments.map { e in
                "\(e.name): torch \(e.torch ?? "-")" + (e.gpus.first.map { ", \($0.name)" } ?? ", \(e.device ?? "cpu")")
            }.joined(separator: "; ")
            return "\(path) (run \(results.run.id) on \(results.run.host.hostname); \(env))"
        }
    }

    public static func render(_ comparison: RunComparison, a: Side, b: Side) -> String {
        let metric = comparison.metric
        let unit = metric == .throughput ? "samples/s" : "ms"
        var out = "A: \(a.summary)\nB: \(b.summary)\n"
        let differences = environmentDifferences(a.results, b.results)
        out += differences.isEmpty ? "\n" : "Environment differs: \(differences.joined(separator: "; "))\n\n"
        let showEnv = comparison.byEnvironment || comparison.matches.contains { $0.a.environment != $0.b.environment }
        var headers = ["model", "variant", "A \(metric.rawValue) \(unit)", "B \(metric.rawValue) \(unit)", "B/A", "95% CI", "change", "verdict"]
        if showEnv { headers.insert("environment", at: 1) }
        var table = TextTable(headers: headers, leftAligned: showEnv ? [0, 1, 2, 8] : [0, 1, 7])
        for m in comparison.matches {
            let value = metric == .throughput ? Format.rate : Format.ms
            var row = [
                m.a.model, m.a.variant.label, value(m.valueA), value(m.valueB), Format.factor(m.ratio),
                "[\(Format.factor(m.lower))-\(Format.factor(m.upper))]", Format.change(m.ratio), verdict(m.verdict),
            ]
            if showEnv { row.insert(environments(m.a, m.b), at: 1) }
            table.rows.append(row)
        }
        if !comparison.matches.isEmpty { out += table.render() }
        let counts = [RunComparison.Verdict.slower, .faster, .noSignificantDifference].map { v in comparison.matches.filter { $0.verdict == v }.count }
        out += "\n\(comparison.matches.count) matched: \(counts[0]) slower, \(counts[1]) faster, \(counts[2]) no significant difference "
        out += "(\(metric.rawValue); B/A \(metric.higherIsBetter ? "< 1" : "> 1") is slower; significant when the 95% interval excludes 1.0)\n"
        if metric == .p99, comparison.matches.contains(where: { $0.a.samplesNS == nil || $0.b.samplesNS == nil }) {
            out += "note: p99 has an interval only where results.json kept the raw samples; without them no p99 difference is significant\n"
        }
        for (label, cells) in [("only in A", comparison.onlyInA), ("only in B", comparison.onlyInB)] where !cells.isEmpty {
            out += "\(label) (not compared): " + cells.map { "\($0.model) \($0.variant.label) [\($0.environment)]" }.joined(separator: ", ") + "\n"
        }
        for (cellA, cellB) in comparison.notComparable {
            out += "not comparable: \(cellA.model) \(cellA.variant.label): A \(state(cellA, metric)), B \(state(cellB, metric))\n"
        }
        return out
    }

    static func verdict(_ v: RunComparison.Verdict) -> String {
        switch v {
        case .faster: return "faster"
        case .slower: return "SLOWER"
        case .noSignificantDifference: return "no significant difference"
        }
    }

    /// What differs between the two runs' first environments and hosts, beyond the figures:
    /// PyTorch, CUDA, the GPU, torch's threads and the threading variables.
    static func environmentDifferences(_ a: RunResults, _ b: RunResults) -> [String] {
        guard let x = a.environments.first, let y = b.environments.first else { return [] }
        var out: [String] = []
        func diff(_ name: String, _ p: String?, _ q: String?) { if p != q { out.append("\(name) \(p ?? "-") → \(q ?? "-")") } }
        diff("torch", x.torch, y.torch)
        diff("CUDA", x.cuda, y.cuda)
        diff("GPU", x.gpus.first?.name, y.gpus.first?.name)
        diff("threads", x.threads.map(String.init), y.threads.map(String.init))
        let keys = Set((x.threadEnvironment ?? [:]).keys).union((y.threadEnvironment ?? [:]).keys).sorted()
        for key in keys { diff(key, x.threadEnvironment?[key], y.threadEnvironment?[key]) }
        diff("host", a.run.host.cpu + " × \(a.run.host.cores)", b.run.host.cpu + " × \(b.run.host.cores)")
        return out
    }

    static func environments(_ a: CellResult, _ b: CellResult) -> String {
        a.environment == b.environment ? a.environment : "\(a.environment) -> \(b.environment)"
    }

    static func state(_ cell: CellResult, _ metric: CompareMetric) -> String {
        guard cell.status == .ok else { return cell.status.rawValue + (cell.error.map { " (\($0.kind): \($0.message))" } ?? "") }
        return metric.value(cell) == nil ? "ok, without \(metric.rawValue)" : "ok"
    }

    /// The `--fail-on-regression` message naming the worst offender, or nil when none is beyond the threshold.
    /// Why a regression gate checked nothing, naming the unmatched cells and the nearest
    /// difference (e.g. the same model with other parameters); nil when some cell matched.
    public static func nothingComparedMessage(_ comparison: RunComparison) -> String? {
        guard comparison.matches.isEmpty else { return nil }
        if !comparison.notComparable.isEmpty {
            return
                "no cell could be compared: \(comparison.notComparable.count) matched pair(s) failed or lack the \(comparison.metric.rawValue) figure in A or B; --fail-on-regression checked nothing"
        }
        func names(_ cells: [CellResult]) -> String {
            let shown = cells.prefix(3).map { "\($0.model) \($0.variant.label)" }.joined(separator: ", ")
            return cells.isEmpty ? "none" : shown + (cells.count > 3 ? ", …" : "")
        }
        var text = "no cell of A matches one of B (model, compile mode, precision, batch size, channels_last"
        text += comparison.byEnvironment ? ", environment)" : ")"
        text += "; only in A: \(names(comparison.onlyInA)); only in B: \(names(comparison.onlyInB))"
        let modelsA = Set(comparison.onlyInA.map(\.model)), modelsB = Set(comparison.onlyInB.map(\.model))
        let baseA = Set(modelsA.map { $0.split(separator: ":").first.map(String.init) ?? $0 })
        let baseB = Set(modelsB.map { $0.split(separator: ":").first.map(String.init) ?? $0 })
        if modelsA != modelsB, !baseA.isDisjoint(with: baseB) { text += " (the same models with different parameters)" }
        return text + "; --fail-on-regression checked nothing"
    }

    public static func regressionMessage(_ comparison: RunComparison, percent: Double) -> String? {
        let found = comparison.regressions(beyond: percent)
        guard let worst = found.first else { return nil }
        let pct = String(format: "%.1f", comparison.slowdownPercent(worst))
        var text = "regression: \(worst.a.model) \(worst.a.variant.label) is \(pct)% slower in B (\(comparison.metric.rawValue) B/A "
        text += "\(Format.ratio(worst.ratio, worst.lower, worst.upper))), beyond --fail-on-regression \(Format.trimmed(percent))%"
        if found.count > 1 { text += "; \(found.count - 1) more cell(s) regressed too (see the table)" }
        return text
    }
}
