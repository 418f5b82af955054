import Foundation

/// The answer of `inferbench recommend` in words and tables, for the terminal, Markdown and
/// HTML alike: the recommendation, its fleet and cost, the runners-up and why each lost, and
/// what the search measured.
public enum RecommendReport {
    /// The answer in a few lines: what to deploy, its capacity, the fleet, energy, cold start.
    public static func answer(_ record: RecommendRecord, _ t: ReportText) -> [String] {
        let q = record.question
        guard let a = record.answer else { return [noAnswer(record, t)] }
        let unit = perUnit(record, t)
        let best = a.best
        let bracket = best.upperQPS.map { "\(Format.qps(best.lowerQPS))–\(Format.qps($0))" } ?? t.pick("at least ", "至少 ") + Format.qps(best.lowerQPS)
        let starts = best.processes == "auto" ? t.pick("fresh starts of the workers", "工作进程多次重新启动") : t.pick("one start", "一次启动")
        var lines = [
            t.punctuated(t.pick("Deploy: ", "部署:") + configText(best.config, t)),
            t.punctuated(
                t.pick(
                    "capacity \(bracket) req/s \(unit) within P99 ≤ \(Format.trimmed(q.slaP99MS)) ms (P50 \(Format.ms(best.p50MS)) ms, P99 \(Format.ms(best.p99MS)) ms at \(Format.qps(best.lowerQPS)) req/s; round \(best.round), \(starts))",
                    "在 P99 ≤ \(Format.trimmed(q.slaP99MS)) ms 内容量 \(bracket) 请求/秒 \(unit) (\(Format.qps(best.lowerQPS)) 请求/秒时 P50 \(Format.ms(best.p50MS)) ms、P99 \(Format.ms(best.p99MS)) ms;第 \(best.round) 轮,\(starts))"
                )),
        ]
        if let tied = a.tiedWith {
            lines.append(
                t.punctuated(
                    t.pick(
                        "tied with \(configText(tied, t)): their brackets overlap, so these measurements do not order the two",
                        "与 \(configText(tied, t)) 不分高下:两者区间重叠,这些测量无法排出先后")))
        }
        if best.fragile(slaP99MS: q.slaP99MS), let lowest = best.lowestP99MS { lines.append(fragileLine(lowest, at: best.lowestP99QPS, sla: q.slaP99MS, t)) }
        if let f = a.fleet { lines.append(fleetLine(f, t)) }
        if a.fleet == nil, let cost = a.costPerMillionAtCapacityUSD {
            lines.append(t.punctuated(t.pick("cost \(dollars(cost)) per million requests at capacity", "满载时每百万请求成本 \(dollars(cost))")))
        }
        lines.append(energyLine(a, t))
        return lines
    }

    /// A capacity that a slightly slower serving path would lose whole (see
    /// ``Recommendation/Choice/fragile(slaP99MS:)``).
    static func fragileLine(_ lowest: Double, at qps: Double?, sla: Double, _ t: ReportText) -> String {
        let share = Recommendation.slaShare(lowest, sla: sla)
        let rate = qps.map { Format.qps($0) } ?? "-"
        return t.punctuated(
            t.pick(
                "fragile: P99 was \(Format.ms(lowest)) ms even at \(rate) req/s, the lowest of any passing step (\(share)% of the SLA); latency hardly grows with load here, so a serving path 1.5× slower, as a cloud VM's processes can be, fails P99 ≤ \(Format.trimmed(sla)) ms at every rate: --check it where it will run, or plan from a looser SLA",
                "脆弱:即使在 \(rate) 请求/秒 时 P99 也有 \(Format.ms(lowest)) ms,是所有通过步骤中最低的(SLA 的 \(share)%);此处延迟几乎不随负载增长,服务路径只要慢 1.5 倍(云主机上的进程可能如此),任何速率都会超出 P99 ≤ \(Format.trimmed(sla)) ms:请在实际部署的机器上 --check,或按更宽松的 SLA 规划"
            ))
    }

    static func fleetLine(_ f: Recommendation.Fleet, _ t: ReportText) -> String {
        let headroom = Int((f.headroom * 100).rounded())
        var text = t.pick(
            "peak \(Format.qps(f.peakQPS)) req/s with \(headroom)% headroom: \(f.gpus) GPU\(f.gpus == 1 ? "" : "s"), each planned at \(Format.qps(f.plannedPerGPU)) req/s",
            "峰值 \(Format.qps(f.peakQPS)) 请求/秒,留 \(headroom)% 余量:\(f.gpus) 块 GPU,每块按 \(Format.qps(f.plannedPerGPU)) 请求/秒规划")
        if let hour = f.costPerHourUSD, let month = f.costPerMonthUSD, let million = f.costPerMillionUSD {
            text += t.pick(
                "; \(dollars(hour))/hour, \(dollars(month))/month, \(dollars(million)) per million requests at the peak",
                ";每小时 \(dollars(hour))、每月 \(dollars(month))、峰值时每百万请求 \(dollars(million))")
        }
        return t.punctuated(text)
    }

    static func energyLine(_ a: Recommendation, _ t: ReportText) -> String {
        let energy =
            a.joulesPerRequest.map { j in
                t.pick("energy \(String(format: "%.3g", j)) J per request", "每请求能耗 \(String(format: "%.3g", j)) J")
                    + (a.powerW.map { t.pick(" (\(Format.rate($0)) W)", "(\(Format.rate($0)) W)") } ?? "")
            } ?? t.pick("energy per request not measured (no GPU power reading)", "未测得每请求能耗(无 GPU 功耗读数)")
        return t.punctuated(energy + coldStarts(a, t))
    }

    /// What a new replica waits before it serves: at the screen, once the search compiled it,
    /// with empty compile caches, and from an AOTInductor package (or why that did not load).
    static func coldStarts(_ a: Recommendation, _ t: ReportText) -> String {
        let cache = a.compileCache.map { t.pick(" (compile cache \($0.rawValue))", "(编译缓存 \($0.rawValue))") } ?? ""
        var cold = a.coldStartS.map { t.pick("; a new replica is ready in \(Format.seconds($0))\(cache)", ";新副本 \(Format.seconds($0)) 后就绪\(cache)") } ?? ""
        if let again = a.replicaStartS {
            let state = a.replicaCache.map { t.pick("compile cache \($0.rawValue)", "编译缓存 \($0.rawValue)") } ?? t.pick("after the search", "搜索之后")
            cold += t.pick(", in \(Format.seconds(again)) once the search compiled it (\(state))", ",搜索编译过之后 \(Format.seconds(again))(\(state))")
        }
        if let empty = a.emptyCacheStartS {
            cold += t.pick(", \(Format.seconds(empty)) with empty compile caches", ",编译缓存为空时 \(Format.seconds(empty))")
        }
        if let package = a.packageStartS {
            cold += t.pick(", \(Format.seconds(package)) from an AOTInductor package", ",从 AOTInductor 包启动 \(Format.seconds(package))")
        } else if let problem = a.packageProblem {
            cold += t.pick("; its AOTInductor package gave no replica (\(problem))", ";其 AOTInductor 包未能启动副本(\(problem))")
        }
        return cold
    }

    /// Why there is no answer, and what would make one possible.
    public static func noAnswer(_ record: RecommendRecord, _ t: ReportText) -> String {
        let q = record.question
        var counts: [ExclusionReason: Int] = [:]
        for c in record.configs { if let e = c.exclusion { counts[e.reason, default: 0] += 1 } }
        let tally = ExclusionReason.allCases.compactMap { r in counts[r].map { "\(r.rawValue) \($0)" } }.joined(separator: ", ")
        var fixes: [String] = []
        let singles = record.screen?.variants.filter { $0.exclusion?.reason != .accuracy }.compactMap(\.singleLatencyMS) ?? []
        if let fastest = singles.min(), fastest > q.slaP99MS {
            fixes.append(
                t.pick(
                    "the fastest variant takes \(Format.ms(fastest)) ms for one request alone: give --sla-p99 above it (e.g. \(Format.trimmed((fastest * 2).rounded(.up))))",
                    "最快的变体单个请求就需 \(Format.ms(fastest)) ms:--sla-p99 须高于它(例如 \(Format.trimmed((fastest * 2).rounded(.up))))"))
        }
        if counts[.accuracy] != nil { fixes.append(t.pick("allow another --precision (fp32 keeps eager's accuracy)", "换用其他 --precision(fp32 与 eager 精度一致)")) }
        if counts[.memory] != nil {
            fixes.append(
                t.pick("raise --max-memory-mb, or search smaller --max-batch / fewer --workers", "提高 --max-memory-mb,或搜索更小的 --max-batch、更少的 --workers"))
        }
        if counts[.coldStart] != nil { fixes.append(t.pick("raise --max-cold-start", "提高 --max-cold-start")) }
        let budgeted = record.configs.compactMap { $0.exclusion?.reason == .budget ? $0.exclusion?.text(t) : nil }
        if let detail = budgeted.first {
            fixes.append(t.pick("a larger --budget (\(detail))", "更大的 --budget(\(detail))"))
        }
        if counts[.sla] != nil && fixes.isEmpty {
            fixes.append(t.pick("a looser --sla-p99, or smaller --max-batch / --max-delay", "放宽 --sla-p99,或更小的 --max-batch / --max-delay"))
        }
        if record.configs.isEmpty { fixes.append(t.pick("the screen measured no variant: see screen.log", "筛选未测得任何变体:见 screen.log")) }
        let head = t.pick(
            "no configuration serves within P99 ≤ \(Format.trimmed(q.slaP99MS)) ms (\(tally.isEmpty ? "none measured" : tally))",
            "没有配置能在 P99 ≤ \(Format.trimmed(q.slaP99MS)) ms 内服务(\(tally.isEmpty ? "未测得任何配置" : tally))")
        return t.punctuated(head + (fixes.isEmpty ? "" : t.pick("; to make it possible: ", ";可行的做法:") + fixes.joined(separator: t.pick("; or ", ";或"))))
    }

    /// The runners-up: every other configuration with its figures and why it lost.
    static func runnersUp(_ record: RecommendRecord, _ t: ReportText) -> ReportTable {
        let rows =
            record.answer?.runnersUp.map { r in
                [configText(r.config, t), bracket(r.lowerQPS, r.upperQPS), Format.ms(r.p99MS), reasonText(r.exclusion.reason, t), r.exclusion.text(t)]
            }
            ?? record.configs.compactMap { c in
                c.exclusion.map {
                    [
                        configText(c.config, t), bracket(c.latest?.lowerQPS, c.latest?.upperQPS), Format.ms(c.latest?.p99MS), reasonText($0.reason, t),
                        $0.text(t),
                    ]
                }
            }
        return ReportTable(
            headers: [t.pick("configuration", "配置"), t.pick("req/s within SLA", "SLA 内请求/秒"), "P99 ms", t.pick("lost on", "落选原因"), t.pick("why", "说明")],
            rows: rows, numeric: [1, 2])
    }

    /// The screen's figures of each variant.
    static func screen(_ record: RecommendRecord, _ t: ReportText) -> ReportTable {
        let batches = Array(Set(record.screen?.variants.flatMap { $0.batches.map(\.batch) } ?? [])).sorted()
        let rows = (record.screen?.variants ?? []).map { v in screenRow(v, batches: batches, t) }
        return ReportTable(
            headers: [t.pick("variant", "变体")] + batches.map { t.pick("batch \($0)", "批量 \($0)") }
                + [t.pick("max rel. error", "最大相对误差"), "MB", t.pick("cold start", "冷启动"), t.pick("screen", "筛选")],
            rows: rows, numeric: Set(1...(batches.count + 3)))
    }

    static func screenRow(_ v: VariantScreen, batches: [Int], _ t: ReportText) -> [String] {
        var row = [v.variant.description]
        for b in batches {
            guard let f = v.batches.first(where: { $0.batch == b }) else {
                row.append("-")
                continue
            }
            let rate: String = f.perS.map { " · " + Format.qps($0) + "/s" } ?? ""
            row.append(Format.ms(f.latencyMS) + " ms" + rate)
        }
        let accuracy: String = v.accuracy.map { String(format: "%.3g", $0.maxRelErr) + ($0.withinTolerance ? "" : " ✗") } ?? "-"
        let verdict: String = v.exclusion.map { reasonText($0.reason, t) } ?? t.pick("passed", "通过")
        return row + [accuracy, v.memoryMB.map { Format.count($0) } ?? "-", Format.seconds(v.coldStartS), verdict]
    }

    /// Every SLA search the rounds ran.
    static func measurements(_ record: RecommendRecord, _ t: ReportText) -> ReportTable {
        let rows = record.configs.flatMap { c in
            c.measurements.map { m in
                [
                    String(m.round), configText(c.config, t), bracket(m.lowerQPS, m.upperQPS), Format.ms(m.p50MS), Format.ms(m.p99MS), m.processes,
                    Format.seconds(m.stepS), Format.seconds(m.wallS), m.folder,
                ]
            }
        }.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
        return ReportTable(
            headers: [
                t.pick("round", "轮"), t.pick("configuration", "配置"), t.pick("req/s within SLA", "SLA 内请求/秒"), "P50 ms", "P99 ms", t.pick("starts", "启动"),
                t.pick("step", "每步"), t.pick("took", "耗时"), t.pick("results", "结果"),
            ], rows: rows, numeric: [0, 2, 3, 4, 6, 7])
    }

    /// The search in one sentence: what was measured, in how long, of what budget.
    static func searchLine(_ record: RecommendRecord, _ t: ReportText) -> String {
        let loads = record.configs.reduce(0) { $0 + $1.measurements.count }
        let rounds = record.configs.flatMap(\.measurements).map(\.round).max() ?? 0
        let variants = record.screen?.variants.count ?? 0
        return t.punctuated(
            t.pick(
                "Searched \(plural(record.configs.count, "configuration")) of \(plural(variants, "variant")): a screen and \(plural(loads, "SLA search", "SLA searches")) in \(plural(rounds, "round")), \(Format.seconds(record.spentS)) of a \(Format.seconds(record.question.budgetS)) budget",
                "搜索了 \(variants) 个变体的 \(record.configs.count) 个配置:一次筛选与 \(rounds) 轮共 \(loads) 次 SLA 搜索,用时 \(Format.seconds(record.spentS)),预算 \(Format.seconds(record.question.budgetS))"
            ))
    }

    static func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String { "\(n) \(n == 1 ? one : many ?? one + "s")" }

    static func configText(_ c: ServingConfig, _ t: ReportText) -> String {
        t.pick(
            c.description,
            "\(c.variant),最大批量 \(c.maxBatch),延迟 \(Format.trimmed(c.maxDelayMS)) ms\u{FF0C}\(c.workers) 个工作进程")
    }

    static func reasonText(_ r: ExclusionReason, _ t: ReportText) -> String {
        switch r {
        case .accuracy: return t.pick("accuracy", "精度")
        case .memory: return t.pick("memory", "内存")
        case .sla: return "SLA"
        case .coldStart: return t.pick("cold start", "冷启动")
        case .failed: return t.pick("failed", "失败")
        case .budget: return t.pick("budget", "预算")
        case .capacity: return t.pick("capacity", "容量")
        case .fragile: return t.pick("fragile", "脆弱")
        }
    }

    static func bracket(_ lower: Double?, _ upper: Double?) -> String {
        guard let lower else { return "-" }
        return upper.map { "\(Format.qps(lower))–\(Format.qps($0))" } ?? "≥ \(Format.qps(lower))"
    }

    static func dollars(_ value: Double) -> String {
        value >= 100 ? "$" + Format.count(value.rounded()) : value >= 1 ? String(format: "$%.2f", value) : String(format: "$%.3g", value)
    }

    /// `per GPU`, or `per machine` for a search on the CPU.
    static func perUnit(_ record: RecommendRecord, _ t: ReportText) -> String {
        record.screen?.device?.hasPrefix("cuda") == true ? t.pick("per GPU", "每 GPU") : t.pick("on this machine's CPU", "(本机 CPU)")
    }

    static func title(_ record: RecommendRecord, _ t: ReportText) -> String {
        let on = record.screen?.gpu ?? record.screen?.device ?? ""
        return t.punctuated(
            t.pick(
                "inferbench recommend: \(record.question.model), P99 ≤ \(Format.trimmed(record.question.slaP99MS)) ms\(on.isEmpty ? "" : " on \(on)")",
                "inferbench recommend:\(record.question.model),P99 ≤ \(Format.trimmed(record.question.slaP99MS)) ms\(on.isEmpty ? "" : ",\(on)")"))
    }
}
