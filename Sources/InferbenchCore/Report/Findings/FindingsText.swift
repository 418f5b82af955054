import Foundation

/// Findings in plain words, in the report's language. Pure: sentences come from `Findings`
/// and numbers are formatted the same way in every language.
public struct FindingsText: Sendable {
    public var findings: Findings
    public var text: ReportText

    public init(_ findings: Findings, _ text: ReportText) {
        self.findings = findings
        self.text = text
    }

    func pick(_ en: String, _ zh: String) -> String { text.pick(en, zh) }
    func list(_ items: [String]) -> String { items.joined(separator: pick(", ", "、")) }
    func batches(_ values: [Int]) -> String { list(values.map(String.init)) }
    func subject(_ model: String, _ environment: String) -> String {
        findings.multiEnvironment ? "\(model) [\(environment)]" : model
    }
    func subject(_ s: Findings.Series) -> String { "\(subject(s.model, s.environment)), \(s.family)" }
    /// `2.1–3.4×`-style ranges: one figure when both ends read the same, one unit at the end.
    func range(_ values: [Double], _ format: (Double) -> String) -> String {
        guard let lo = values.min(), let hi = values.max() else { return "-" }
        let low = format(lo), high = format(hi)
        if low == high { return low }
        let unit = [" s", " 秒"].first { high.hasSuffix($0) && low.hasSuffix($0) } ?? ""
        return "\(low.dropLast(unit.count))–\(high)"
    }

    /// The findings sections that have something to say, each a title and its bullet points.
    public func sections() -> [(title: String, items: [String])] {
        [
            (text.bestSection, findings.best.map(best)),
            (text.batchSection, findings.batchScaling.map(scaling)),
            (text.coldStartSection, findings.coldStarts.map(coldStart)),
            (text.memorySection, findings.memory.map(memory)),
            (text.slowerSection, findings.slower.map(slower)),
            (text.throughputSection, findings.throughputGaps.map(throughputGap)),
            (text.shapesSection, findings.shapeStrategies.map(shapeStrategies)),
        ].filter { !$0.1.isEmpty }
    }

    func best(_ b: Findings.Best) -> String {
        let who = "\(subject(b.model, b.environment)) " + pick("at batch \(b.batch)", "批大小 \(b.batch)")
        let p50 = Format.ms(b.p50)
        guard let reference = b.reference else {
            return b.family.hasPrefix("eager/")
                ? pick("\(who): \(b.family) is fastest (p50 \(p50) ms); no other variant beats it.", "\(who)：\(b.family) 最快(p50 \(p50) 毫秒),其他变体都不比它快。")
                : pick(
                    "\(who): \(b.family) is fastest (p50 \(p50) ms); there is no eager cell to compare with.",
                    "\(who)：\(b.family) 最快(p50 \(p50) 毫秒);没有可对比的 eager 单元。")
        }
        guard let s = b.speedup else { return pick("\(who): \(b.family) is fastest (p50 \(p50) ms).", "\(who)：\(b.family) 最快(p50 \(p50) 毫秒)。") }
        var ratio = Format.ratio(s.ratio, s.lower, s.upper)
        // A comparison of cells measured apart (another sweep: another precision) says so.
        if s.paired == false { ratio += pick(" (measured apart, not in alternating rounds)", "(分开测量,未交替进行)") }
        return s.significant
            ? pick(
                "\(who): \(b.family) is fastest, p50 \(p50) ms, \(ratio) faster than \(reference).",
                "\(who)：\(b.family) 最快,p50 \(p50) 毫秒,比 \(reference) 快 \(ratio)。")
            : pick(
                "\(who): no variant is significantly faster than \(reference) (best: \(b.family), \(ratio), p50 \(p50) ms).",
                "\(who):没有变体显著快于 \(reference)(最佳:\(b.family),\(ratio),p50 \(p50) 毫秒)。")
    }

    func throughputGap(_ g: Findings.ThroughputGap) -> String {
        let who = "\(subject(g.series)) " + pick("at batch \(g.batch)", "批大小 \(g.batch)")
        let measured = "\(Format.rate(g.throughput)) [\(Format.rate(g.lower))–\(Format.rate(g.upper))]"
        let implied = Format.rate(g.implied)
        return g.throughput > g.implied
            ? pick(
                "\(who): back-to-back throughput \(measured)/s is \(Format.factor(g.throughput / g.implied))× batch ÷ p50 (\(implied)/s): the calls are launch-bound, and the latency loop's synchronize after every call leaves the GPU idle while the next is launched; a server that keeps work queued gets the higher figure.",
                "\(who):连续吞吐量 \(measured)/秒,是 批大小÷p50(\(implied)/秒)的 \(Format.factor(g.throughput / g.implied)) 倍:调用受启动开销限制,延迟测量中每次调用后的同步使 GPU 在下一次启动时空闲;持续排队的服务可得到更高的数字。"
            )
            : pick(
                "\(who): back-to-back throughput \(measured)/s is below batch ÷ p50 (\(implied)/s): back-to-back calls ran slower than timed ones (contention, clocks or memory pressure when the GPU never idles); size capacity from throughput, not from latency.",
                "\(who):连续吞吐量 \(measured)/秒 低于 批大小÷p50(\(implied)/秒):连续调用比单次计时调用更慢(GPU 不空闲时的争用、频率或内存压力);容量规划应依据吞吐量而非延迟。")
    }

    func scaling(_ s: Findings.BatchScaling) -> String {
        let who = subject(s.series)
        let top = "\(Format.rate(s.bestThroughput)) " + pick("samples/s, p50 ", "样本/秒,p50 ") + Format.ms(s.bestP50) + pick(" ms", " 毫秒")
        let peak: String
        if s.bestBatch == s.largestBatch {
            peak = pick(
                "throughput rises up to the largest batch measured, \(s.bestBatch) (\(top)); larger batches may go higher",
                "吞吐量一直增长到所测最大批大小 \(s.bestBatch)(\(top));更大的批可能更高")
        } else if s.bestBatch == s.smallestBatch {
            peak = pick(
                "throughput is highest at the smallest batch measured, \(s.bestBatch) (\(top)); larger batches do not help",
                "吞吐量在所测最小批大小 \(s.bestBatch) 时最高(\(top));更大的批没有帮助")
        } else {
            peak = pick("throughput peaks at batch \(s.bestBatch) (\(top))", "吞吐量在批大小 \(s.bestBatch) 达到峰值(\(top))")
        }
        guard s.knee != s.bestBatch else { return text.punctuated("\(who)\(pick(": ", ":"))\(peak)\(pick(".", "。"))") }
        let share = String(format: "%.0f", s.kneeThroughput / s.bestThroughput * 100)
        return pick(
            "\(who): \(peak); batch \(s.knee) already reaches \(share)% of it (the knee) at p50 \(Format.ms(s.kneeP50)) ms.",
            "\(who):\(peak);批大小 \(s.knee) 已达到其 \(share)%(拐点),p50 \(Format.ms(s.kneeP50)) 毫秒。")
    }

    func coldStart(_ c: Findings.ColdStart) -> String {
        let head = pick(
            "\(subject(c.series)): compile costs \(range(c.compileS.map(\.value), text.seconds))",
            "\(subject(c.series)):编译耗时 \(range(c.compileS.map(\.value), text.seconds))")
        var paid: [String] = []
        var never: [Int] = []
        for p in c.payback {
            switch p.value {
            case .after(let calls): paid.append(pick("\(Format.count(calls)) calls at batch \(p.batch)", "批大小 \(p.batch) 时 \(Format.count(calls)) 次调用"))
            case .never: never.append(p.batch)
            }
        }
        if paid.isEmpty && never.isEmpty { return head + pick(".", "。") }
        if paid.isEmpty {
            return head + pick(" and never pays back (not faster than eager at batch \(batches(never))).", ",且永远无法回本(批大小 \(batches(never)) 时不比 eager 快)。")
        }
        var out = head + pick(" and pays back after \(list(paid))", ",回本需要:\(list(paid))")
        if !never.isEmpty {
            out += pick("; it never pays back at batch \(batches(never)) (not faster than eager)", ";批大小 \(batches(never)) 时永远无法回本(不比 eager 快)")
        }
        return out + pick(".", "。")
    }

    func memory(_ m: Findings.MemoryOverhead) -> String {
        let what =
            m.own
            ? pick("GPU memory of the worker process (NVML: context, allocator pool, CUDA graphs)", "工作进程 GPU 显存(NVML:上下文、分配器内存池、CUDA 图)")
            : m.reserved
                ? pick("peak reserved GPU memory (CUDA-graph pools included)", "GPU 峰值预留显存(含 CUDA 图内存池)")
                : m.gpu ? pick("peak GPU memory", "GPU 峰值显存") : pick("worker RSS", "工作进程 RSS")
        let items = m.figures.map { f -> String in
            let delta = f.value.variantMB - f.value.eagerMB
            // Under 0.05 MB reads as no change, not "+0.0 MB (+0%)"; a share under 1% keeps a
            // decimal, not "-0%", and one under 0.1% is left out.
            let change: String
            if abs(delta) < 0.05 {
                change = "±0 MB"
            } else {
                let pct = f.value.eagerMB > 0 ? delta / f.value.eagerMB * 100 : nil
                let share = pct.flatMap { abs($0) < 0.1 ? nil : String(format: abs($0) < 1 ? " (%+.1f%%)" : " (%+.0f%%)", $0) } ?? ""
                change = "\(delta >= 0 ? "+" : "-")\(Format.megabytes(abs(delta))) MB\(share)"
            }
            let raw = "\(Format.megabytes(f.value.eagerMB)) → \(Format.megabytes(f.value.variantMB)) MB"
            return pick("\(change) at batch \(f.batch) (\(raw))", "批大小 \(f.batch) 时 \(change)(\(raw))")
        }
        return pick("\(subject(m.series)): \(what) over eager: \(list(items)).", "\(subject(m.series)):相对 eager 的\(what):\(list(items))。")
    }

    func slower(_ s: Findings.Slower) -> String {
        let ratio = Format.ratio(s.speedup.ratio, s.speedup.lower, s.speedup.upper)
        return pick(
            "\(subject(s.series)) at batch \(s.batch) is SLOWER than \(s.reference): speedup \(ratio) (p50 \(Format.ms(s.p50)) ms vs \(Format.ms(s.eagerP50)) ms \(s.reference)).",
            "\(subject(s.series)) 在批大小 \(s.batch) 时比 \(s.reference) 更慢:加速比 \(ratio)(p50 \(Format.ms(s.p50)) 毫秒,\(s.reference) 为 \(Format.ms(s.eagerP50)) 毫秒)。")
    }

    /// Warnings grouped by kind, each with the cells it affects ("cell: message"), the kinds in
    /// order of first appearance: a reader sees "outliers in 12 cells" once, not 12 blocks.
    public func warnings() -> [(heading: String, items: [String])] {
        warningGroups().map { ($0.heading, $0.items) }
    }

    /// The group of failed and skipped cells, which the terminal lists on lines of their own.
    static let failedGroup = "failed"

    /// ``warnings()`` with each group's kind (``group(_:)``), for a reader that leaves one out.
    func warningGroups() -> [(kind: String, heading: String, items: [String])] {
        var order: [String] = []
        var groups: [String: [(cell: String, item: String)]] = [:]
        for w in findings.warnings {
            let key = Self.group(w.kind)
            if groups[key] == nil { order.append(key) }
            let cell = "\(subject(w.model, w.environment)) \(w.label)"
            // Full-width in Chinese: the colon sits between a label and a sentence, touching neither.
            groups[key, default: []].append((cell, cell + pick(": ", "：") + warning(w.kind)))
        }
        return order.map { key in
            let entries = groups[key]!
            let cells = Set(entries.map(\.cell)).count
            let heading = text.punctuated("\(kindTitle(key)) (\(pick(cells == 1 ? "1 cell" : "\(cells) cells", "\(cells) 个单元")))")
            return (key, heading, entries.map(\.item))
        }
    }

    /// The group a warning belongs to (its kind).
    static func group(_ kind: Findings.Warning.Kind) -> String {
        switch kind {
        case .failed: return failedGroup
        case .cell(let kind, _): return kind
        case .graphBreaks: return "graph_breaks"
        case .recompiles: return "recompiles"
        case .accuracy: return "accuracy"
        }
    }

    func kindTitle(_ key: String) -> String {
        let titles: [String: (String, String)] = [
            "failed": ("Failed or skipped", "失败或跳过"), "outliers": ("Outliers", "离群值"), "bimodal": ("Bimodal latency", "双峰延迟"),
            "few_samples": ("Few samples", "样本过少"), "target_ci_not_met": ("Interval wider than the target", "置信区间未达目标"),
            "warmup_unstable": ("Warm-up never stabilised", "预热未稳定"), "accuracy": ("Accuracy", "数值误差"),
            "verify_failed": ("Could not verify", "无法校验"), "graph_breaks": ("Graph breaks", "图中断"), "recompiles": ("Recompiles", "重新编译"),
            "throttled": ("GPU throttled", "GPU 降频"), "process_outlier": ("A process ran apart from the others", "某进程与其他进程不一致"),
            "process_failed": ("A process failed", "某进程失败"), "host_busy": ("Host busy with other work", "主机被其他任务占用"),
            "recompiled_while_measuring": ("Recompiled while measuring", "测量期间发生重新编译"),
        ]
        return titles[key].map { pick($0.0, $0.1) } ?? key
    }

    func warning(_ kind: Findings.Warning.Kind) -> String {
        switch kind {
        case .failed(let kind, let message, let skipped):
            let state = skipped ? pick("skipped", "被跳过") : pick("FAILED", "失败")
            // The worker's own words are quoted as they came (「…」 in Chinese): they name the fix.
            return pick("\(state) (\(kind)): \(message)", "\(state)(\(text.errorKind(kind))):「\(message)」")
        case .cell(let kind, let message):
            return text.cellWarning(WarningKind(rawValue: kind), message: message)
        case .graphBreaks(let n, let reasons):
            let why = reasons.isEmpty ? "" : " (\(reasons.prefix(2).joined(separator: "; ")))"
            return pick(
                "\(n) graph break(s)\(why); code between graphs runs in Python. Try --fullgraph to find them.",
                "\(n) 处图中断\(why);图之间的代码以 Python 执行。可用 --fullgraph 定位。")
        case .recompiles(let n):
            return pick(
                "\(n) recompile(s); figures may include compile time. Check for changing input shapes or try --dynamic.",
                "发生 \(n) 次重新编译;数据可能包含编译时间。请检查输入形状是否变化,或尝试 --dynamic。")
        case .accuracy(let err, let cosine):
            return pick(
                String(format: "outputs differ from eager fp32 beyond tolerance (max abs err %.3g, cosine %.6f).", err, cosine),
                String(format: "输出与 eager fp32 的差异超出容差(最大绝对误差 %.3g,余弦相似度 %.6f)。", err, cosine))
        }
    }
}
