import Foundation

/// The lines under a run's terminal tables: what went wrong, per-cell detail (`--verbose`) and
/// the count of cells that finished. Accuracy is 数值误差 in Chinese, never 精度, which
/// means precision (fp16, bf16) there.
extension ReportText {
    /// A cell of a later environment against the same cell of the first.
    func environmentProblem(base: CellResult, cell: CellResult, _ c: Comparison) -> String {
        let verdict = c.significant ? Format.ratio(c.ratio, c.ci95.lower, c.ci95.upper) : pick("no measurable difference", "无可测差异")
        let (model, label, baseEnv, env) = (cell.model, cell.variant.label, base.environment, cell.environment)
        let (base, cell) = (Format.ms(base.latencyMS?.p50), Format.ms(cell.latencyMS?.p50))
        return pick(
            "environments: \(model) \(label): p50 \(base) ms [\(baseEnv)] vs \(cell) ms [\(env)]: \(env) speedup \(verdict)",
            "环境对比：\(model) \(label)：p50 \(base) 毫秒 [\(baseEnv)] 对比 \(cell) 毫秒 [\(env)]：\(env) 加速比 \(verdict)")
    }

    /// A failed cell; the worker's own words quoted as they came (「…」 in Chinese).
    func failedProblem(_ cell: CellResult, name: String) -> String {
        guard language == .zh else {
            return "\(cell.status.rawValue): \(name): \(cell.error.map { "\($0.kind): \($0.message)" } ?? "")"
        }
        let why = cell.error.map { "：\(errorKind($0.kind.rawValue))：「\($0.message)」" } ?? ""
        return punctuated("\(cell.status == .skipped ? "跳过" : "失败")：\(name)\(why)")
    }

    /// One kind of warning: the first cells it affects, the rest counted.
    func warningProblem(_ heading: String, shown: [String], more: Int) -> String {
        let items = shown.joined(separator: " | ")
        return pick(
            "warning: \(heading): \(items)" + (more > 0 ? " | … and \(more) more in report.md" : ""),
            "警告：\(heading)：\(items)" + (more > 0 ? " | … 另有 \(more) 条，见 report.md" : ""))
    }

    func coldStartDetail(_ cs: ColdStart, name: String, payback: Payback) -> String {
        let how =
            cs.batchReuse.map { pick("batch sweep, \(batchReuse($0)): ", "批大小扫描，\(batchReuse($0))：") }
            ?? pick("load \(seconds(cs.loadS)), ", "加载 \(seconds(cs.loadS))，")
        let cache = cs.compileCache.map { pick(" (\($0) compile cache)", "（编译缓存 \($0)）") } ?? ""
        let be: String
        switch payback {
        case .after(let calls): be = pick("pays back after \(Int(calls)) calls", "\(Int(calls)) 次调用后回本")
        case .noBaseline: be = pick("no eager baseline in this run to pay back against", "本次运行没有可供回本对比的 eager 基线")
        case .never: be = pick("never pays back (not faster than eager)", "永远无法回本（不比 eager 快）")
        }
        return pick(
            "cold start: \(name): \(how)compile \(seconds(cs.compileS))\(cache), first call \(Format.ms(cs.firstCallMS)) ms; \(be)",
            "冷启动：\(name)：\(how)编译 \(seconds(cs.compileS))\(cache)，首次调用 \(Format.ms(cs.firstCallMS)) 毫秒；\(be)")
    }

    /// When a compiled cell's compile time is paid back, as the cold-start line says it.
    enum Payback {
        case after(Double)
        case noBaseline
        case never
    }

    func gpuDetail(_ t: TelemetryAggregate, name: String) -> String {
        let energy = t.energyJPerSample.map { String(format: "%.3g", $0) } ?? "-"
        let format = pick(
            "gpu: %@: SM util %.0f%% (max %.0f%%), power %.0f W, %@ J/sample, SM clock %.0f MHz, max %.0f °C%@",
            "GPU：%@：SM 利用率 %.0f%%（最高 %.0f%%），功耗 %.0f W，%@ J/样本，SM 频率 %.0f MHz，最高 %.0f °C%@")
        return String(
            format: format, name, t.gpuUtilMean ?? 0, t.gpuUtilMax ?? 0, t.powerWMean ?? 0, energy, t.smClockMHzMean ?? 0, t.tempCMax ?? 0,
            t.throttled ? pick(", THROTTLED", "，降频") : "")
    }

    func accuracyDetail(_ a: Accuracy, name: String) -> String {
        let format = pick(
            "accuracy: %@: max abs err %.2g, cosine %.6f vs eager fp32 (%@)", "数值误差：%@：相对 eager fp32 的最大绝对误差 %.2g，余弦相似度 %.6f（%@）")
        return String(format: format, name, a.maxAbsErr, a.cosine, a.withinTolerance ? pick("within tolerance", "在容差内") : accuracyBad)
    }

    /// The last line: how many cells finished, and that the run did not.
    func cellsOK(_ ok: Int, of total: Int, interrupted: Bool) -> String {
        pick("\(ok) of \(total) cells ok", "\(total) 个单元中 \(ok) 个成功")
            + (interrupted ? pick(" (run interrupted: incomplete)", "（运行被中断，未完成）") : "")
    }
}
