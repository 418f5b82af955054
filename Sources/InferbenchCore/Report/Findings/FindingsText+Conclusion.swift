import Foundation

extension FindingsText {
    /// The closing paragraph: per model, what to run and what it costs; then what to check.
    ///
    /// Only significant speedups count as wins. A model where nothing beats eager is told
    /// to keep eager: that is a result, not a failure.
    public func conclusion() -> String {
        var sentences: [String] = []
        var subjects: [(String, String)] = []
        for b in findings.best where !subjects.contains(where: { $0 == (b.model, b.environment) }) {
            subjects.append((b.model, b.environment))
        }
        for (model, environment) in subjects {
            let bests = findings.best.filter { $0.model == model && $0.environment == environment }
            sentences.append(verdict(subject(model, environment), bests))
            if let cost = compileCost(model, environment, bests) { sentences.append(cost) }
            let scaling = findings.batchScaling.filter { $0.series.model == model && $0.series.environment == environment }
            if let top = scaling.max(by: { $0.bestThroughput < $1.bestThroughput }) {
                sentences.append(
                    pick(
                        "Highest throughput: \(Format.qps(top.bestThroughput)) samples/s with \(top.series.family) at batch \(top.bestBatch).",
                        "最高吞吐量:\(top.series.family) 在批大小 \(top.bestBatch) 时达到 \(Format.qps(top.bestThroughput)) 样本/秒。"))
            }
        }
        for e in findings.environments { sentences.append(environmentVerdict(e)) }
        if !findings.slower.isEmpty {
            sentences.append(
                pick(
                    "Do not deploy the \(findings.slower.count) compiled configuration(s) that are slower than eager (see Findings).",
                    "不要部署比 eager 更慢的 \(findings.slower.count) 个编译配置(见“发现”)。"))
        }
        if findings.incomplete {
            sentences.append(pick("The run was interrupted: the figures cover only the cells that finished.", "运行被中断:数据只覆盖已完成的单元。"))
        }
        if findings.busyCells > 0 {
            sentences.append(
                pick(
                    "\(findings.busyCells) cell(s) were measured while other processes kept the host busy: their batch sizes get no verdict; rerun them on a quiet machine.",
                    "有 \(findings.busyCells) 个单元在主机被其他进程占用时测量:这些批大小不下结论;请在空闲的机器上重新运行。"))
        }
        if findings.failedCells > 0 {
            sentences.append(
                pick(
                    "\(findings.failedCells) of \(findings.totalCells) cells failed or were skipped (see Warnings).",
                    "\(findings.totalCells) 个单元中有 \(findings.failedCells) 个失败或被跳过(见警告)。"))
        }
        let warned = findings.warnings.filter { if case .failed = $0.kind { return false } else { return true } }.count
        sentences.append(
            warned > 0
                ? pick("Review the \(warned) warning(s) before relying on these figures.", "在采用这些数据之前,请先查看 \(warned) 条警告。")
                : pick("No measurement warnings were raised.", "测量过程中没有警告。"))
        return sentences.joined(separator: pick(" ", ""))
    }

    /// One environment against the first: in how many cells it is faster, slower or level.
    func environmentVerdict(_ e: Findings.EnvironmentVerdict) -> String {
        func range(_ r: [Double]) -> String {
            let lo = r.min()!, hi = r.max()!
            return lo == hi ? String(format: "%.2f×", lo) : String(format: "%.2f–%.2f×", lo, hi)
        }
        let level = e.compared - e.faster.count - e.slower.count
        var en: [String] = [], zh: [String] = []
        if !e.faster.isEmpty {
            en.append("faster in \(e.faster.count) (\(range(e.faster)))")
            zh.append("\(e.faster.count) 个更快(\(range(e.faster)))")
        }
        if !e.slower.isEmpty {
            en.append("slower in \(e.slower.count) (\(range(e.slower)))")
            zh.append("\(e.slower.count) 个更慢(\(range(e.slower)))")
        }
        if level > 0 {
            en.append("no significant difference in \(level)")
            zh.append("\(level) 个无显著差异")
        }
        return pick(
            "\(e.candidate) against \(e.baseline), over the \(e.compared) cell(s) both ran: \(en.joined(separator: ", ")) (see Environments compared).",
            "\(e.candidate) 对比 \(e.baseline),两者都运行的 \(e.compared) 个单元中:\(zh.joined(separator: ","))(见“环境对比”)。")
    }

    /// Which variant wins at which batch sizes, with the range of its significant speedups.
    /// Each speedup is against the baseline the tables show for that cell (eager at the same
    /// precision), named, so a figure here is the figure there.
    func verdict(_ who: String, _ bests: [Findings.Best]) -> String {
        let wins = bests.filter { $0.speedup?.significant == true && ($0.speedup?.ratio ?? 0) > 1 }
        let ties = bests.filter { !wins.contains($0) }
        let tieReferences = ordered(ties.map { $0.reference ?? $0.family })
        if wins.isEmpty && tieReferences.count <= 1 {
            let reference = tieReferences.first ?? "eager/fp32"
            return pick(
                "For \(who), nothing is significantly faster than \(reference) at any batch size measured: keep \(reference).",
                "对 \(who) 而言,所测的任何批大小下都没有变体显著快于 \(reference):保持 \(reference)。")
        }
        let families = ordered(wins.map(\.family))
        let parts = families.map { family -> String in
            let mine = wins.filter { $0.family == family }
            let reference = mine[0].reference ?? "eager/fp32"
            let ratios = range(mine.map { $0.speedup!.ratio }, Format.factor) + "×"
            return pick(
                "\(family) wins at batch \(batches(mine.map(\.batch))) (\(ratios) faster than \(reference))",
                "\(family) 在批大小 \(batches(mine.map(\.batch))) 时最快(比 \(reference) 快 \(ratios))")
        }
        if families.count == 1 && ties.isEmpty {
            let reference = wins[0].reference ?? "eager/fp32"
            let ratios = range(wins.map { $0.speedup!.ratio }, Format.factor) + "×"
            return pick(
                "For \(who), \(families[0]) is the fastest at every batch size measured (\(ratios) faster than \(reference)).",
                "对 \(who) 而言,\(families[0]) 在所测的每个批大小下都最快(比 \(reference) 快 \(ratios))。")
        }
        let tied = tieReferences.map { reference -> String in
            let at = batches(ties.filter { ($0.reference ?? $0.family) == reference }.map(\.batch))
            return pick("at batch \(at) nothing is significantly faster than \(reference)", "批大小 \(at) 时没有变体显著快于 \(reference)")
        }
        return pick("For \(who): \((parts + tied).joined(separator: "; ")).", "对 \(who) 而言:\((parts + tied).joined(separator: ";"))。")
    }

    /// The distinct values in order of first appearance.
    func ordered(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    /// What the winning compiled variants cost to compile and when they pay back.
    func compileCost(_ model: String, _ environment: String, _ bests: [Findings.Best]) -> String? {
        let winners = bests.filter { $0.speedup?.significant == true && !$0.family.hasPrefix("eager/") }
        let costs = findings.coldStarts.filter { c in
            c.series.model == model && c.series.environment == environment && winners.contains { $0.family == c.series.family }
        }
        let seconds = costs.flatMap { c in c.compileS.filter { p in winners.contains { $0.family == c.series.family && $0.batch == p.batch } }.map(\.value) }
        guard let worst = seconds.max() else { return nil }
        let calls = costs.flatMap { c in
            c.payback.compactMap { p -> Double? in
                guard winners.contains(where: { $0.family == c.series.family && $0.batch == p.batch }), case .after(let n) = p.value else { return nil }
                return n
            }
        }
        guard let most = calls.max() else {
            return pick("Compiling it costs up to \(text.seconds(worst)) per configuration.", "每个配置的编译耗时最多 \(text.seconds(worst))。")
        }
        return pick(
            "Compiling it costs up to \(text.seconds(worst)) per configuration and pays back after at most \(Format.count(most)) calls.",
            "每个配置的编译耗时最多 \(text.seconds(worst)),最多 \(Format.count(most)) 次调用即可回本。")
    }
}
