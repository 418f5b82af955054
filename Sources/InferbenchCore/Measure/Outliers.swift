import Foundation

/// Outlier detection by the modified z-score (Iglewicz and Hoaglin):
/// `0.6745·(x − median) / MAD`, an outlier beyond 3.5.
public enum Outliers {
    ///
    /// The MAD is floored at 1% of the median: on near-constant latency (a tight GPU kernel) the
    /// raw MAD can be a microsecond, and a 3% wobble would read as an outlier though no one
    /// could act on it.
    /// An outlier must also lie `minimumGap` (5%) from the median: on a steady GPU kernel a
    /// 2% wobble can be many MADs out, yet no reader would act on it.
    public static func count(_ values: [Double], threshold: Double = 3.5, minimumGap: Double = 0.05) -> Int {
        let m = Statistics.median(values)
        let mad = max(Statistics.mad(values), 0.01 * abs(m))
        guard mad > 0 else { return 0 }
        return values.filter { abs(0.6745 * ($0 - m) / mad) > threshold && abs($0 - m) >= minimumGap * abs(m) }.count
    }

    /// The tail must be this far above the median for outliers to be worth a warning: a P99 of
    /// 1.05× the P50 is a steady cell (42 of 60 GPU cells were warned at any P99 > 1.05× P50,
    /// and readers stopped reading the warnings).
    public static let tailRatioWorthAWarning = 1.10

    /// The warnings a latency sample set deserves.
    public static func warnings(for samples: [Double], summary: LatencySummary, rule: StoppingRule, decision: StoppingRule.MeasureDecision) -> [CellWarning] {
        var warnings: [CellWarning] = []
        let n = samples.count
        if n < 10 {
            warnings.append(
                CellWarning(
                    kind: .fewSamples,
                    message:
                        "only \(n) iterations were measured, too few for stable percentiles; raise --max-time or --iterations"))
        } else if n < 100, summary.p99 > 0 {
            warnings.append(
                CellWarning(
                    kind: .fewSamples,
                    message:
                        "P99 from \(n) samples is an extreme value, not a percentile; raise --max-time or --iterations for tail latency"))
        }
        let outliers = count(samples)
        if n >= 20, Double(outliers) / Double(n) > 0.01, summary.p50 > 0, summary.p99 / summary.p50 >= tailRatioWorthAWarning {
            let pct = String(format: "%.1f", 100 * Double(outliers) / Double(n))
            warnings.append(
                CellWarning(
                    kind: .outliers,
                    message:
                        "\(outliers) of \(n) iterations (\(pct)%) are statistical outliers (modified z-score > 3.5); other load on the machine, a longer --warmup, or clock throttling may explain them"
                ))
        }
        if let split = Bimodality.split(samples) {
            warnings.append(
                CellWarning(
                    kind: .bimodal,
                    message: String(
                        format:
                            "latency is bimodal: %.0f%% of iterations cluster near %@ ms and the rest near %@ ms; the median describes neither well. Look for recompiles, cache misses or two code paths (e.g. TORCH_LOGS=recompiles)",
                        split.upperFraction * 100, Format.ms(split.upperMedian / 1e6), Format.ms(split.lowerMedian / 1e6))))
        }
        if decision == .maxTimeReached {
            warnings.append(CellWarning(kind: .targetCINotMet, message: targetMessage(width: summary.relativeMedianHalfWidth, rule: rule)))
        }
        return warnings
    }

    /// What a cell whose interval (relative half-width `width`) missed the target says.
    static func targetMessage(width: Double, rule: StoppingRule) -> String {
        let got = String(format: "±%.2f%%", width * 100)
        let want = String(format: "±%.2f%%", rule.targetCI * 100)
        return
            "the median's 95% interval is \(got), wider than the \(want) target, when --max-time \(fmt(rule.maxTime)) s ran out; raise --max-time or quiet the machine"
    }

    private static func fmt(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}
