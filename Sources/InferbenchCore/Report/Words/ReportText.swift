import Foundation

/// The language a report is written in. Numbers are the same in every language.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case en, zh
}

/// The words of the Markdown and HTML reports, English and Chinese side by side, so a
/// phrase and its translation change together. Messages that the runner attached to cells
/// (warnings, worker errors) are quoted as they are, in English, in either language.
public struct ReportText: Sendable {
    public var language: ReportLanguage

    public init(_ language: ReportLanguage) {
        self.language = language
    }

    /// The English or the Chinese phrase. Chinese gets Chinese punctuation wherever a mark
    /// touches Chinese text, including marks that come with interpolated values.
    func pick(_ en: String, _ zh: String) -> String {
        language == .en ? en : Self.chinesePunctuation(zh)
    }

    /// `,:;?!` beside a Chinese character become their full-width forms (U+FF0C …), and a pair
    /// of parentheses becomes U+FF08/U+FF09 when it follows Chinese or holds some. Marks between ASCII characters stay as
    /// they are: `--concurrency 8,16`, `P(X ≤ k | n, 1%)`, `14:09` are code, formulas, times.
    /// Text put together from parts, punctuated for the report's language (see ``pick(_:_:)``).
    func punctuated(_ text: String) -> String { pick(text, text) }

    static func chinesePunctuation(_ text: String) -> String {
        let chars = Array(text)
        var out: [Character?] = chars
        func chinese(_ i: Int) -> Bool {
            guard chars.indices.contains(i), let v = chars[i].unicodeScalars.first?.value else { return false }
            return (0x4E00...0x9FFF).contains(v) || (0x3000...0x303F).contains(v) || (0xFF00...0xFFEF).contains(v)
        }
        func space(_ i: Int) -> Bool { chars.indices.contains(i) && chars[i] == " " }
        let wide: [Character: Character] = [",": "\u{FF0C}", ":": "\u{FF1A}", ";": "\u{FF1B}", "?": "\u{FF1F}", "!": "\u{FF01}"]
        var open: [Int] = []
        for i in chars.indices {
            // A full-width mark carries its own space: the ASCII space beside it goes.
            if let mark = wide[chars[i]], chinese(i - 1) || chinese(i + 1) {
                out[i] = mark
                if space(i + 1) { out[i + 1] = nil }
            }
            if chars[i] == "(" { open.append(i) }
            // A space may stand between Chinese and an ASCII parenthesis: `时 (156 → 168 MB)`.
            if chars[i] == ")", let start = open.popLast(),
                chinese(start - 1) || chinese(i + 1) || (space(start - 1) && chinese(start - 2)) || (start + 1..<i).contains(where: chinese)
            {
                (out[start], out[i]) = ("\u{FF08}", "\u{FF09}")
                if space(start - 1) { out[start - 1] = nil }
                if space(i + 1) { out[i + 1] = nil }
            }
        }
        return String(out.compactMap { $0 })
    }

    /// Seconds in the report's one unit style: `14 s` in English, `14 秒` in Chinese, as its
    /// milliseconds are 毫秒.
    func seconds(_ value: Double?) -> String { Format.seconds(value, unit: language == .en ? "s" : "秒") }

    var htmlLanguage: String { pick("en", "zh-CN") }
    var title: String { pick("Inference feasibility report", "推理性能可行性报告") }
    func runLine(id: String, started: String, status: RunInfo.Status) -> String {
        let state = status == .complete ? pick("complete", "已完成") : pick("INCOMPLETE (interrupted)", "未完成(被中断)")
        return pick("Run \(id), started \(started), \(state).", "运行 \(id),开始于 \(started),\(state)。")
    }
    var environment: String { pick("Environment", "环境") }
    var host: String { pick("host", "主机") }
    var cpu: String { "CPU" }
    var gpu: String { "GPU" }
    var driver: String { pick("driver", "驱动") }
    var device: String { pick("device", "设备") }
    var command: String { pick("Command", "命令") }
    var noGPU: String { pick("none (CPU run)", "无(CPU 运行)") }
    func cores(_ n: Int, memoryGB: Double) -> String {
        pick("\(n) cores, \(Format.trimmed(memoryGB)) GB memory", "\(n) 核,内存 \(Format.trimmed(memoryGB)) GB")
    }
    func results(for model: String) -> String { pick("Results: \(model)", "结果:\(model)") }

    // Summary table.
    var variant: String { pick("variant", "变体") }
    var environmentColumn: String { pick("env", "环境") }
    var batch: String { pick("batch", "批大小") }
    var p50: String { pick("p50 ms (95% CI)", "p50 毫秒(95% 置信区间)") }
    var p99: String { pick("p99 ms", "p99 毫秒") }
    var throughput: String { pick("samples/s", "样本/秒") }
    var stepsPerS: String { "it/s" }
    var secondsPerImage: String { pick("s/image", "秒/图") }
    var speedup: String { pick("speedup vs eager", "相对 eager 加速比") }
    /// The header of a speedup column whose every figure is against one baseline.
    func speedupVersus(_ baseline: String) -> String { pick("speedup vs \(baseline)", "相对 \(baseline) 加速比") }
    /// After a speedup in a column of several baselines: which one it is against.
    func versus(_ baseline: String) -> String { pick("vs \(baseline)", "相对 \(baseline)") }
    var eagerSamePrecision: String { pick("eager, same precision", "同精度 eager") }
    var compileTime: String { pick("compile", "编译耗时") }
    var breakeven: String { pick("break-even (calls)", "回本调用次数") }
    var peakGPU: String { pick("peak GPU MB", "GPU 峰值 MB") }
    var workerRSS: String { pick("worker RSS MB", "进程 RSS MB") }
    var accuracy: String { pick("accuracy (max abs err vs eager fp32)", "数值误差(相对 eager fp32 的最大绝对误差)") }
    var baseline: String { pick("baseline", "基线") }
    var environmentsCompared: String { pick("Environments compared", "环境对比") }
    var model: String { pick("model", "模型") }
    func environmentSpeedup(_ base: String) -> String { pick("speedup vs \(base)", "相对 \(base) 加速比") }
    var environmentsNote: String {
        pick(
            "Median latency of the same cell in each environment; > 1 means the later environment is faster. Cells of all environments were measured in alternating rounds, each in its own worker process.",
            "各环境中同一单元的中位延迟;大于 1 表示后一个环境更快。所有环境的单元以交替轮次测量,各自在独立的 worker 进程中。")
    }
    /// How a batch size was served in a batch sweep (see ColdStart.batchReuse).
    func batchReuse(_ value: BatchReuse) -> String {
        switch value {
        case .reused: return pick("graph reused", "复用计算图")
        case .recompiled: return pick("recompiled", "重新编译")
        case .reexported: return pick("re-exported", "重新导出")
        default: return value.rawValue
        }
    }
    var noSignificantDifference: String { pick("no significant difference", "无显著差异") }
    var slowerMark: String { pick("slower", "更慢") }
    var never: String { pick("never", "永不") }
    var accuracyOK: String { pick("ok", "通过") }
    var accuracyBad: String { pick("BEYOND tolerance", "超出容差") }
    func failedCell(_ kind: String, skipped: Bool) -> String {
        skipped ? pick("skipped (\(kind))", "跳过(\(kind))") : pick("FAILED (\(kind))", "失败(\(kind))")
    }
    /// How to read the results table of `results`, with the it/s and s/image columns explained
    /// when it holds sd15 cells.
    func howToRead(for results: RunResults) -> String {
        howToRead
            + (results.cells.contains { $0.stepsPerCall != nil }
                ? pick(
                    " For models that run denoising steps (sd15), it/s is steps per call / p50 and s/image is p50 / batch size.",
                    "对逐步去噪的模型(sd15),it/s = 每次调用的步数 / p50,秒/图 = p50 / 批大小。") : "")
            + (results.cells.contains { $0.latencyMS.map { !$0.supports(percentile: 99) } ?? false }
                ? pick(
                    " — in the p99 column: fewer than 100 samples, too few for a P99 (it would be their maximum).",
                    "p99 列中的 —:样本少于 100 个,不足以给出 P99(只会是最大值)。") : "")
    }
    var howToRead: String {
        pick(
            "Latency is per call, each call synchronized; ± is the half-width of the median's 95% interval. samples/s is back-to-back throughput. Speedup is eager p50 / variant p50 at the same precision and batch, with its 95% interval; it counts only when the interval excludes 1.0. Break-even is compile time / time saved per call.",
            "延迟为单次调用耗时(每次调用后同步);± 为中位数 95% 置信区间的半宽。样本/秒 为连续执行的吞吐量。加速比 = 同精度、同批大小下 eager 的 p50 / 该变体的 p50,附 95% 置信区间;只有区间不含 1.0 才算显著。回本调用次数 = 编译耗时 / 每次调用节省的时间。"
        )
    }

    // Sections.
    var findings: String { pick("Findings", "发现") }
    var bestSection: String { pick("Best variant per batch size", "各批大小的最佳配置") }
    var batchSection: String { pick("Batch size", "批大小") }
    var coldStartSection: String { pick("Compile cost and break-even", "编译开销与回本点") }
    var memorySection: String { pick("Memory", "内存") }
    var slowerSection: String { pick("Slower than eager", "比 eager 更慢") }
    var throughputSection: String { pick("Throughput vs latency", "吞吐量与延迟") }
    var shapesSection: String { pick("Static graphs per length vs one dynamic graph", "每个长度一个静态图 vs 一个动态图") }
    var warnings: String { pick("Warnings", "警告") }
    var noWarnings: String { pick("None: every cell finished without a warning.", "无:所有单元均无警告。") }
    var conclusion: String { pick("Conclusion", "结论") }

    // Charts.
    var latencyChart: String { pick("p50 latency vs batch size (whiskers: 95% CI)", "p50 延迟与批大小(误差线:95% CI)") }
    var throughputChart: String { pick("Throughput vs batch size (whiskers: 95% CI)", "吞吐量与批大小(误差线:95% CI)") }
    var speedupChart: String {
        pick(
            "Speedup over eager at the same precision and batch (whiskers: 95% CI; right of 1.0 is faster)",
            "相对同精度、同批大小 eager 的加速比(误差线:95% CI;1.0 右侧为更快)")
    }
    var spectrumChart: String { pick("Latency percentiles", "延迟百分位分布") }
    var timelineChart: String {
        pick("Timeline: each measured chunk's p50 (dot) and max (line), with the machine beneath", "时间线:每个测量块的 p50(点)与最大值(竖线),下方为机器状态")
    }
    var batchAxis: String { pick("batch size", "批大小") }
    var latencyAxis: String { pick("p50 latency (ms)", "p50 延迟(毫秒)") }
    var throughputAxis: String { pick("throughput (samples/s)", "吞吐量(样本/秒)") }
    var speedupAxis: String { pick("speedup over eager (×)", "相对 eager 的加速比(×)") }
    var percentileAxis: String { pick("percentile", "百分位") }
    var spectrumAxis: String { pick("latency (ms)", "延迟(毫秒)") }
    var notSignificant: String { pick("n.s.", "不显著") }
}
