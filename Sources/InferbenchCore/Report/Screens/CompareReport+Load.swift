import Foundation

extension CompareReport {
    /// `inferbench compare` of two load tests: capacity under the SLA and offline throughput.
    public static func render(_ comparison: LoadComparison, a: Side, b: Side) -> String {
        var out = "A: \(a.summary)\nB: \(b.summary)\n"
        let environment = environmentDifferences(a.results, b.results)
        if !environment.isEmpty { out += "Environment differs: \(environment.joined(separator: "; "))\n" }
        if !comparison.setupDifferences.isEmpty { out += "Setup differs: \(comparison.setupDifferences.joined(separator: "; "))\n" }
        out += "\n"
        var table = TextTable(headers: ["figure", "A", "B", "B/A", "verdict"], leftAligned: [0, 4])
        if let c = comparison.capacity {
            let sla = a.results.load?.slaP99MS.map { " at P99 ≤ \(Format.trimmed($0)) ms" } ?? ""
            table.rows.append(["capacity\(sla), req/s", bracket(c.a), bracket(c.b), ratioBracket(c.lower, c.upper), loadVerdict(c.verdict)])
        }
        if let o = comparison.offline {
            table.rows.append([
                "offline, samples/s", offline(a.results), offline(b.results), Format.ratio(o.ratio, o.lower, o.upper), loadVerdict(o.verdict),
            ])
        }
        guard !table.rows.isEmpty else {
            return out + "Neither a capacity (--find-max-qps) nor offline throughput (--offline) is in both tests: nothing to compare.\n"
        }
        out += table.render()
        if comparison.capacity != nil {
            out += "\nCapacity is the bracket [highest rate that passed, lowest that failed]: B is higher only where it\n"
            out += "passed at a rate A failed at, lower only where it failed at a rate A passed; overlapping brackets\n"
            out += "show no difference.\n"
        }
        return out
    }

    static func bracket(_ c: Capacity) -> String {
        switch (c.lowerQPS, c.upperQPS) {
        case (let lo?, let hi?): return "\(Format.rate(lo))–\(Format.rate(hi))"
        case (let lo?, nil): return "≥ \(Format.rate(lo))"
        case (nil, let hi?): return "< \(Format.rate(hi))"
        case (nil, nil): return "-"
        }
    }

    static func ratioBracket(_ lower: Double?, _ upper: Double?) -> String {
        switch (lower, upper) {
        case (let lo?, let hi?): return "\(Format.factor(lo))–\(Format.factor(hi))×"
        case (let lo?, nil): return "≥ \(Format.factor(lo))×"
        case (nil, let hi?): return "≤ \(Format.factor(hi))×"
        case (nil, nil): return "-"
        }
    }

    static func offline(_ results: RunResults) -> String {
        guard let o = results.load?.offline else { return "-" }
        return Format.rate(o.perS) + (o.ci95.map { " [\(Format.rate($0.lower))–\(Format.rate($0.upper))]" } ?? "")
    }

    static func loadVerdict(_ v: LoadComparison.Verdict) -> String {
        switch v {
        case .higher: return "higher"
        case .lower: return "LOWER"
        case .overlap: return "no difference shown"
        }
    }

    /// The `--fail-on-regression` message for two load tests, or nil when capacity did not drop beyond it.
    public static func regressionMessage(_ comparison: LoadComparison, percent: Double) -> String? {
        guard let c = comparison.capacityRegression(beyond: percent) else { return nil }
        return "regression: capacity fell from \(bracket(c.a)) to \(bracket(c.b)) req/s (B failed below A's passing rate by more than "
            + "--fail-on-regression \(Format.trimmed(percent))%)"
    }
}
