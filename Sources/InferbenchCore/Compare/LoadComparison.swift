import Foundation

/// Two load tests side by side (`inferbench compare A B` on two `load` results): the serving
/// capacity under the SLA and offline throughput, B against A.
///
/// Capacity is a bracket, not a confidence interval: [highest rate that passed, lowest that
/// failed]. B is higher only where B passed at a rate A failed at (B's lower bound ≥ A's
/// upper), lower only where B failed at a rate A passed; brackets that overlap show no
/// difference. Offline throughput has 95% intervals and is compared like a run's throughput.
/// Two tests without a capacity (no `--find-max-qps`) or without offline figures compare
/// what they have; neither is an error.
public struct LoadComparison: Sendable {
    public enum Verdict: String, Sendable { case higher, lower, overlap }

    /// B's capacity over A's: `ratio` from the brackets' midpoints, `lower`/`upper` the most
    /// each way the brackets allow (nil: unbounded, a side that never failed or never passed).
    public struct CapacityChange: Sendable, Equatable {
        public var a: Capacity
        public var b: Capacity
        public var lower: Double?
        public var upper: Double?
        public var verdict: Verdict
    }

    public struct OfflineChange: Sendable, Equatable {
        public var a: Double
        public var b: Double
        public var ratio: Double
        public var lower: Double
        public var upper: Double
        public var verdict: Verdict
    }

    public var capacity: CapacityChange?
    public var offline: OfflineChange?
    /// What differs in the two tests' setups (model, variant, lengths, batching, SLA):
    /// the comparison is of those, e.g. two compile strategies.
    public var setupDifferences: [String]

    public init(a: RunResults, b: RunResults) {
        if let ca = a.load?.capacity, let cb = b.load?.capacity { capacity = Self.capacity(ca, cb) }
        if let oa = a.load?.offline, let ob = b.load?.offline {
            let r = Statistics.ratio(ob.perS, ob.ci95?.tuple ?? (0, .infinity), over: oa.perS, oa.ci95?.tuple ?? (0, .infinity))
            let verdict: Verdict = r.lower > 1 ? .higher : r.upper < 1 ? .lower : .overlap
            offline = OfflineChange(a: oa.perS, b: ob.perS, ratio: r.ratio, lower: r.lower, upper: r.upper, verdict: verdict)
        }
        setupDifferences = Self.differences(a.load, b.load)
    }

    static func capacity(_ a: Capacity, _ b: Capacity) -> CapacityChange {
        // B ≥ A's failing rate where B passed: higher; B failed below A's passing rate: lower.
        let verdict: Verdict
        if let lb = b.lowerQPS, let ua = a.upperQPS, lb >= ua {
            verdict = .higher
        } else if let ub = b.upperQPS, let la = a.lowerQPS, ub <= la {
            verdict = .lower
        } else {
            verdict = .overlap
        }
        let lower = b.lowerQPS.flatMap { lb in a.upperQPS.map { lb / $0 } }
        let upper = b.upperQPS.flatMap { ub in a.lowerQPS.map { ub / $0 } }
        return CapacityChange(a: a, b: b, lower: lower, upper: upper, verdict: verdict)
    }

    static func differences(_ a: LoadInfo?, _ b: LoadInfo?) -> [String] {
        guard let a, let b else { return [] }
        var out: [String] = []
        func diff(_ name: String, _ p: String?, _ q: String?) { if p != q { out.append("\(name) \(p ?? "-") → \(q ?? "-")") } }
        diff("model", a.model, b.model)
        diff("variant", a.variant?.family ?? a.target?.url ?? "-", b.variant?.family ?? b.target?.url ?? "-")
        diff("--seq-len", a.seqLen, b.seqLen)
        diff("--pad-to", a.padTo, b.padTo)
        diff("--max-batch", String(a.maxBatch), String(b.maxBatch))
        diff(
            "--batch-buckets", a.batchBuckets.map { $0.map(String.init).joined(separator: ",") },
            b.batchBuckets.map { $0.map(String.init).joined(separator: ",") })
        diff("--workers", String(a.workers), String(b.workers))
        diff("--in-flight", a.inFlight.map(String.init), b.inFlight.map(String.init))
        diff("--sla-p99", a.slaP99MS.map(Format.trimmed), b.slaP99MS.map(Format.trimmed))
        return out
    }

    /// B's capacity is lower than A's by more than `percent`: B failed at a rate below A's
    /// passing rate × (1 − percent/100). Nil when not.
    public func capacityRegression(beyond percent: Double) -> CapacityChange? {
        guard let c = capacity, c.verdict == .lower, let ub = c.b.upperQPS, let la = c.a.lowerQPS, ub < la * (1 - percent / 100) else {
            return nil
        }
        return c
    }
}
