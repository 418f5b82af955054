import Foundation

/// The answer of a search: the configuration that serves the most requests per second per GPU
/// within the P99 bound, what a fleet of it costs at the peak, and why every other lost.
public struct Recommendation: Codable, Sendable, Equatable {
    public struct Choice: Codable, Sendable, Equatable {
        public var config: ServingConfig
        public var lowerQPS: Double
        public var upperQPS: Double?
        public var p50MS: Double?
        public var p99MS: Double?
        public var round: Int
        public var processes: String
        /// The folder of the `load` whose bracket this is, relative to the search folder.
        public var folder: String
        /// The lowest P99 of any passing step of that search, and its rate.
        public var lowestP99MS: Double?
        public var lowestP99QPS: Double?

        /// ``Recommendation/fragile(lowestP99MS:at:lowerQPS:sla:)`` of the measurement it was chosen on.
        public func fragile(slaP99MS: Double) -> Bool {
            Recommendation.fragile(lowestP99MS: lowestP99MS, at: lowestP99QPS, lowerQPS: lowerQPS, sla: slaP99MS)
        }
    }

    /// The fraction of the SLA that P99 reaches at a light load for a capacity to be fragile.
    public static let fragileFraction = 2.0 / 3.0

    /// `ms` as a whole percentage of the SLA, as the answer quotes a margin.
    static func slaShare(_ ms: Double, sla: Double) -> Int { Int((ms / sla * 100).rounded()) }

    /// Whether a capacity hangs on a thin margin: P99 was two thirds of the SLA or more even at
    /// the lightest passing step, and that step ran at half the capacity or less, so latency is
    /// seen to hardly grow with load and a serving path 1.5× slower (as processes on a cloud VM
    /// can be) would fail the SLA at any rate. Near the capacity P99 approaches the SLA by
    /// definition: a search whose passing steps all ran there shows nothing of the margin
    /// (on a CPU, a configuration with a 5 ms floor read 11.3 ms at 851 req/s under a 14 ms SLA).
    public static func fragile(lowestP99MS: Double?, at qps: Double?, lowerQPS: Double?, sla: Double) -> Bool {
        guard let p99 = lowestP99MS, let qps, let lower = lowerQPS else { return false }
        return p99 >= sla * fragileFraction && qps <= lower * SLASearch.lightLoadBound
    }

    /// GPUs for `--peak-qps`, each planned at its capacity's lower bound less the headroom.
    public struct Fleet: Codable, Sendable, Equatable {
        public var peakQPS: Double
        public var headroom: Double
        public var plannedPerGPU: Double
        public var gpus: Int
        public var costPerHourUSD: Double?
        public var costPerMonthUSD: Double?
        public var costPerMillionUSD: Double?
    }

    public struct RunnerUp: Codable, Sendable, Equatable {
        public var config: ServingConfig
        public var lowerQPS: Double?
        public var upperQPS: Double?
        public var p99MS: Double?
        public var exclusion: Exclusion
    }

    public struct ParetoPoint: Codable, Sendable, Equatable {
        public var config: ServingConfig
        public var qps: Double
        public var p99MS: Double
        public var front: Bool
    }

    public var best: Choice
    /// True when the first runner-up's bracket reaches the best's lower bound: the order of the
    /// two is not settled by these measurements.
    public var tiedWith: ServingConfig?
    public var fleet: Fleet?
    /// What a million requests cost on one GPU kept at its capacity (with `--gpu-price`).
    public var costPerMillionAtCapacityUSD: Double?
    public var joulesPerRequest: Double?
    public var powerW: Double?
    public var coldStartS: Double?
    public var compileCache: CompileCacheState?
    /// A replica started once the search had compiled it (``ReplicaStart``).
    public var replicaStartS: Double?
    public var replicaCache: CompileCacheState?
    /// A replica with empty compile caches, and one from an AOTInductor package (compiled answers),
    /// or why the package gave none.
    public var emptyCacheStartS: Double?
    public var packageStartS: Double?
    public var packageProblem: String?
    public var runnersUp: [RunnerUp]
    public var pareto: [ParetoPoint]

    /// Hours in an average month (8,766 / 12), for a monthly bill.
    public static let hoursPerMonth = 730.5

    /// The answer the record's measurements give; nil when no configuration passed the SLA.
    public static func make(_ record: RecommendRecord) -> Recommendation? {
        let question = record.question
        let ranksAbove = ranking(sla: question.slaP99MS)
        let ranked = record.configs.filter { $0.exclusion == nil && $0.latest?.lowerQPS != nil }.sorted(by: ranksAbove)
        guard let top = ranked.first, let m = top.latest, let lower = m.lowerQPS else { return nil }
        let best = Choice(
            config: top.config, lowerQPS: lower, upperQPS: m.upperQPS, p50MS: m.p50MS, p99MS: m.p99MS, round: m.round, processes: m.processes,
            folder: m.folder, lowestP99MS: m.lowestP99MS, lowestP99QPS: m.lowestP99QPS)
        let screen = record.screen?.variants.first { $0.variant == top.config.variant }
        var answer = Recommendation(
            best: best, fleet: fleet(question, perGPU: lower), joulesPerRequest: m.joulesPerRequest, powerW: m.powerW, coldStartS: screen?.coldStartS,
            compileCache: screen?.compileCache, runnersUp: [], pareto: pareto(record.configs))
        answer.costPerMillionAtCapacityUSD = question.gpuPricePerHour.map { $0 / (lower * 3600) * 1e6 }
        if let replica = record.replica, replica.config == top.config {
            (answer.replicaStartS, answer.replicaCache) = (replica.coldStartS, replica.compileCache)
        }
        if let empty = record.emptyCacheReplica, empty.config == top.config { answer.emptyCacheStartS = empty.coldStartS }
        if let package = record.packageReplica, package.config == top.config {
            (answer.packageStartS, answer.packageProblem) = (package.coldStartS, package.problem)
        }
        answer.runnersUp = record.configs.filter { $0.config != top.config }.sorted(by: ranksAbove).map {
            runnerUp($0, best: best, sla: question.slaP99MS)
        }
        if let second = ranked.dropFirst().first, let upper = second.latest?.upperQPS ?? second.latest?.lowerQPS, upper >= lower,
            second.roundReached == top.roundReached, second.latest?.fragile(slaP99MS: question.slaP99MS) == m.fragile(slaP99MS: question.slaP99MS)
        {
            answer.tiedWith = second.config
        }
        return answer
    }

    /// The order of the answer: configurations still in the running first; then those whose
    /// capacity is not fragile (a recommendation should be one a second run confirms: a fragile
    /// one's can fall tenfold on a slower day); then later rounds (they survived more halvings),
    /// the higher lower bound, and the lower P99 at it.
    static func ranking(sla: Double) -> (ConfigRecord, ConfigRecord) -> Bool {
        { a, b in
            if (a.exclusion == nil) != (b.exclusion == nil) { return a.exclusion == nil }
            let (fa, fb) = (a.latest?.fragile(slaP99MS: sla) ?? false, b.latest?.fragile(slaP99MS: sla) ?? false)
            if fa != fb { return !fa }
            if a.roundReached != b.roundReached { return a.roundReached > b.roundReached }
            let (la, lb) = (a.latest?.lowerQPS ?? -1, b.latest?.lowerQPS ?? -1)
            if la != lb { return la > lb }
            return (a.latest?.p99MS ?? .infinity) < (b.latest?.p99MS ?? .infinity)
        }
    }

    static func fleet(_ q: RecommendQuestion, perGPU lower: Double) -> Fleet? {
        guard let peak = q.peakQPS else { return nil }
        let planned = lower * (1 - q.headroom)
        let gpus = Int((peak / planned).rounded(.up))
        var fleet = Fleet(peakQPS: peak, headroom: q.headroom, plannedPerGPU: planned, gpus: max(1, gpus))
        if let price = q.gpuPricePerHour {
            let hourly = Double(fleet.gpus) * price
            fleet.costPerHourUSD = hourly
            fleet.costPerMonthUSD = hourly * hoursPerMonth
            fleet.costPerMillionUSD = hourly / (peak * 3600) * 1e6
        }
        return fleet
    }

    static func runnerUp(_ record: ConfigRecord, best: Choice, sla: Double) -> RunnerUp {
        let m = record.latest
        let exclusion =
            record.exclusion ?? stopped(m) ?? fragile(m, best: best, sla: sla)
            ?? Exclusion(
                .capacity,
                "\(Format.qps(m?.lowerQPS ?? 0)) req/s per GPU within the SLA, below the \(Format.qps(best.lowerQPS)) of the recommendation",
                zh: "每块 GPU 在 SLA 内 \(Format.qps(m?.lowerQPS ?? 0)) 请求/秒,低于推荐配置的 \(Format.qps(best.lowerQPS))", round: m?.round ?? 0)
        return RunnerUp(config: record.config, lowerQPS: m?.lowerQPS, upperQPS: m?.upperQPS, p99MS: m?.p99MS, exclusion: exclusion)
    }

    /// A runner-up that is fragile beside a recommendation that is not.
    static func fragile(_ m: CapacityMeasurement?, best: Choice, sla: Double) -> Exclusion? {
        guard let m, (m.lowerQPS ?? 0) > best.lowerQPS, !best.fragile(slaP99MS: sla) else { return nil }
        return fragileExclusion(m, sla: sla)
    }

    /// A configuration that served within the SLA only on a thin margin
    /// (``CapacityMeasurement/fragile(slaP99MS:)``), put behind those with one; nil when it is not fragile.
    static func fragileExclusion(_ m: CapacityMeasurement, sla: Double) -> Exclusion? {
        guard let lower = m.lowerQPS, let lowest = m.lowestP99MS, m.fragile(slaP99MS: sla) else { return nil }
        let share = slaShare(lowest, sla: sla)
        let rate = Format.qps(m.lowestP99QPS ?? lower)
        return Exclusion(
            .fragile,
            "\(Format.qps(lower)) req/s per GPU within the SLA, but fragile: P99 was \(Format.ms(lowest)) ms even at \(rate) req/s (\(share)% of the SLA), so a serving path 1.5× slower fails at every rate; those with a margin rank first",
            zh:
                "每块 GPU 在 SLA 内 \(Format.qps(lower)) 请求/秒,但很脆弱:即使在 \(rate) 请求/秒 P99 也为 \(Format.ms(lowest)) 毫秒(SLA 的 \(share)%),服务路径慢 1.5 倍就在任何速率下都不满足;留有余量的配置排在前面",
            round: m.round)
    }

    /// A search stopped (by the budget, Ctrl-C or SIGTERM) before any rate passed: not measured,
    /// rather than a capacity of zero.
    static func stopped(_ m: CapacityMeasurement?) -> Exclusion? {
        guard let m, m.status == .incomplete, m.lowerQPS == nil else { return nil }
        return Exclusion(
            .budget, "its SLA search was stopped after \(Format.seconds(m.wallS)) before a rate passed; --resume continues it",
            zh: "其 SLA 搜索在 \(Format.seconds(m.wallS)) 后被停止,尚无速率通过;--resume 可继续", round: m.round)
    }

    /// Every configuration measured with a passing rate: its capacity's lower bound and the P99
    /// there; on the front when no other serves at least as much at a P99 at most as low.
    static func pareto(_ configs: [ConfigRecord]) -> [ParetoPoint] {
        let points = configs.compactMap { c -> ParetoPoint? in
            guard let m = c.latest, let qps = m.lowerQPS, let p99 = m.p99MS else { return nil }
            return ParetoPoint(config: c.config, qps: qps, p99MS: p99, front: false)
        }
        return points.map { p in
            var p = p
            p.front = !points.contains { o in o.config != p.config && o.qps >= p.qps && o.p99MS <= p.p99MS && (o.qps > p.qps || o.p99MS < p.p99MS) }
            return p
        }.sorted { $0.qps < $1.qps }
    }
}
