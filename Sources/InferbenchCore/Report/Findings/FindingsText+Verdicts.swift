import Foundation

extension FindingsText {
    /// One line per comparison that matters, as hyperfine ends its output: per model and batch
    /// size the fastest variant against its baseline, then every variant significantly slower
    /// than its own. The figures are the tables' (the run's recorded comparison: the ratio of
    /// medians with its 95% interval), each naming the baseline it is against.
    ///
    /// Not an error: a run without an eager cell has lines that say so and no figure.
    public func verdictLines() -> [String] {
        findings.best.map(verdictLine) + findings.slower.map(slowerLine)
    }

    func verdictLine(_ b: Findings.Best) -> String {
        let at = "\(subject(b.model, b.environment)) " + pick("batch \(b.batch): ", "批大小 \(b.batch)：")
        guard let reference = b.reference else {
            return at
                + (b.family.hasPrefix("eager/")
                    ? pick("\(b.family) ran fastest; no variant beat it", "\(b.family) 最快,没有变体比它更快")
                    : pick("\(b.family) ran fastest; no eager cell to compare it with", "\(b.family) 最快;没有可对比的 eager 单元"))
        }
        guard let s = b.speedup else {
            return at + pick("\(b.family) ran fastest (no interval against \(reference))", "\(b.family) 最快(没有相对 \(reference) 的区间)")
        }
        let apart = s.paired == false ? pick(" (measured apart)", "(分开测量)") : ""
        guard s.significant else {
            return at
                + pick(
                    "\(b.family) vs \(reference): no measurable difference (\(Format.ratio(s.ratio, s.lower, s.upper)))\(apart)",
                    "\(b.family) 对比 \(reference):无可测差异(\(Format.ratio(s.ratio, s.lower, s.upper)))\(apart)")
        }
        return at + ranText(b.family, s, reference) + apart
    }

    func slowerLine(_ s: Findings.Slower) -> String {
        let at = "\(subject(s.series.model, s.series.environment)) " + pick("batch \(s.batch): ", "批大小 \(s.batch)：")
        let apart = s.speedup.paired == false ? pick(" (measured apart)", "(分开测量)") : ""
        return at + ranText(s.series.family, s.speedup, s.reference) + apart
    }

    /// "ran 2.50× [2.45–2.55] faster than eager/fp32", or slower with the inverse ratio, so
    /// the factor always reads as "times".
    func ranText(_ family: String, _ s: Findings.Speedup, _ reference: String) -> String {
        if s.ratio >= 1 {
            return pick(
                "\(family) ran \(Format.ratio(s.ratio, s.lower, s.upper)) faster than \(reference)",
                "\(family) 比 \(reference) 快 \(Format.ratio(s.ratio, s.lower, s.upper))")
        }
        let slower = Format.ratio(1 / s.ratio, 1 / s.upper, 1 / s.lower)
        return pick("\(family) ran \(slower) slower than \(reference)", "\(family) 比 \(reference) 慢 \(slower)")
    }
}
