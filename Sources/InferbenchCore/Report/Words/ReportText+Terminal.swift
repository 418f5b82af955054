import Foundation

/// The words of the terminal summary of a run (`run`, `report --summary`), English and
/// Chinese side by side. The English is what `run` has always printed, word for word: its
/// snapshots hold it. Chinese strings carry full-width marks where ASCII text sits on both
/// sides (`环境 a：Python`), since ``pick(_:_:)`` converts only marks that touch Chinese.
extension ReportText {
    func environmentLine(_ env: EnvironmentRecord) -> String {
        let gpu = env.gpus.first.map(\.name) ?? pick("no GPU", "无 GPU")
        let (python, torch, cuda, device) = (env.pythonVersion ?? "?", env.torch ?? "-", env.cuda ?? "-", env.device ?? "?")
        return pick(
            "Environment \(env.name): Python \(python), torch \(torch), CUDA \(cuda), \(gpu); device \(device)",
            "环境 \(env.name)：Python \(python)，torch \(torch)，CUDA \(cuda)，\(gpu)；设备 \(device)")
    }

    func columnHeader(_ kind: TerminalColumn.Kind) -> String {
        switch kind {
        case .model: return pick("model", "模型")
        case .variant: return variant
        case .n: return "n"
        case .mean: return pick("mean ms", "平均 毫秒")
        case .p50: return p50Only
        case .interval: return pick("95% CI", "95% 区间")
        case .p90: return pick("p90 ms", "p90 毫秒")
        case .p99: return p99
        case .min: return pick("min ms", "最小 毫秒")
        case .max: return pick("max ms", "最大 毫秒")
        case .throughput: return throughput
        case .stepsPerS: return stepsPerS
        case .secondsPerImage: return secondsPerImage
        case .speedup: return pick("speedup", "加速比")
        case .compile: return pick("compile", "编译耗时")
        }
    }

    var p50Only: String { pick("p50 ms", "p50 毫秒") }
    /// A speedup column whose every figure is against `baseline`.
    func speedupAgainst(_ baseline: String) -> String { pick("× vs \(baseline)", "相对 \(baseline) 加速比") }
    /// A cell's status where its p50 would be: `FAILED`, `失败`.
    func status(_ status: CellResult.Status) -> String {
        switch status {
        case .ok: return pick("OK", "成功")
        case .failed: return pick("FAILED", "失败")
        case .skipped: return pick("SKIPPED", "跳过")
        }
    }

    // The pivot of variants × batch sizes.
    func pivotTitle(_ model: String) -> String {
        pick("\(model): p50 ms and × vs the variant in \"vs\"", "\(model)：p50 毫秒，及相对“基线”列中变体的加速比（×）")
    }
    var pivotBaseline: String { pick("vs", "基线") }
    func pivotBatch(_ batch: Int) -> String { pick("bs\(batch)", "批 \(batch)") }
    var pivotNote: String {
        pick(
            "Each cell: p50 ms and its speedup over the variant in column \"vs\" (the ratio of medians; n.s.: its 95% interval holds 1). "
                + "Intervals, percentiles, throughput and compile times: --wide, or report.md.",
            "每格：p50 毫秒及其相对“基线”列中变体的加速比（中位数之比；不显著：其 95% 区间包含 1）。区间、百分位、吞吐量与编译耗时：见 --wide 或 report.md。")
    }

    // The notes below the table of one row per cell.
    func latencyNote(cudaEvents: Bool, interval: String) -> String {
        pick(
            "Latency per iteration (\(cudaEvents ? "CUDA events" : "host perf_counter"), each iteration synchronized); \(interval)"
                + "; samples/s is back-to-back throughput; speedup is the baseline's p50 / the variant's p50 (eager at the same precision and batch), n.s.: its 95% interval holds 1.",
            "延迟为每次迭代的耗时（\(cudaEvents ? "CUDA 事件" : "主机 perf_counter")，每次迭代后同步）；\(interval)"
                + "；样本/秒 为连续执行的吞吐量；加速比 = 基线的 p50 / 该变体的 p50（基线为同精度、同批大小的 eager），不显著：其 95% 区间包含 1。")
    }

    /// How the 95% interval was found: over chunks of one process, or over fresh processes.
    func intervalNote(processes: String?, fresh: Bool) -> String {
        guard let processes else { return pick("95% CI is the median's order-statistic interval", "95% 区间为中位数的顺序统计量区间") }
        return pick(
            "each cell measured in \(processes) \(fresh ? "fresh processes" : "process"); 95% CI is the median's, bootstrapped over processes and chunks (docs/methodology.md)",
            "每个单元在 \(processes) 个\(fresh ? "全新进程" : "进程")中测量；95% 区间为中位数的区间，按进程与测量块自助抽样（bootstrap）估计（docs/methodology.md）")
    }
    var stepRatesNote: String {
        pick(
            "it/s is denoising steps per call / p50; s/image is p50 / batch size (models that report steps per call).",
            "it/s = 每次调用的去噪步数 / p50；秒/图 = p50 / 批大小（仅限报告每次调用步数的模型）。")
    }
    func fewForP99Note(_ minimum: Int) -> String {
        pick(
            "— : fewer than \(minimum) samples, too few for a P99 (it would be their maximum); raise --max-time or --iterations.",
            "—：样本少于 \(minimum) 个，不足以给出 P99（只会是其最大值）；请加大 --max-time 或 --iterations。")
    }
    func leftOutNote(width: Int, dropped: [String]) -> String {
        pick(
            "Left out to fit \(width) columns: \(dropped.joined(separator: ", ")) (--wide shows every column).",
            "为适应 \(width) 列宽而省略：\(dropped.joined(separator: "、"))（--wide 显示所有列）。")
    }
}
