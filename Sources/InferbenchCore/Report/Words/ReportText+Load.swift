import Foundation

/// The words of the load-test reports, English and Chinese side by side.
extension ReportText {
    var loadTitle: String { pick("Load test report", "负载测试报告") }
    var loadSetup: String { pick("Setup", "配置") }
    var loadSteps: String { pick("Steps", "测试步骤") }
    var loadTimeline: String { pick("Timeline", "时间线") }
    func loadSetupLine(_ info: LoadInfo) -> String {
        let delay = Format.trimmed(info.maxDelayMS)
        let window = Format.trimmed(info.windowS)
        return pick(
            "\(info.model), \(info.variant.family), \(info.workers) worker(s) behind a dynamic batcher: batches of up to \(info.maxBatch), waiting at most \(delay) ms to fill, at most \(Format.count(Double(info.maxQueue))) requests queued; figures per \(window) s window.",
            "\(info.model),\(info.variant.family),\(info.workers) 个 worker 位于动态批处理器之后:批大小最多 \(info.maxBatch),凑批最多等待 \(delay) 毫秒,排队最多 \(Format.count(Double(info.maxQueue))) 个请求;每 \(window) 秒一个统计窗口。"
        )
    }
    var loadHowToRead: String {
        pick(
            "Latency counts from each request's due time (open loop) or send time (closed loop), so a stall shows in every request it delays. Offered is what was due or sent per second, achieved what completed; dropped requests were rejected by a full queue, errors failed in a worker. Queue (due time to dispatch), ipc (round trip beyond the worker's own time), compute and batch are means.",
            "延迟从每个请求的计划发送时间(开环)或实际发送时间(闭环)算起,因此一次停顿会体现在它拖延的每个请求上。“提供”为每秒计划或发送的请求数,“达成”为每秒完成数;丢弃的请求因队列已满被拒绝,错误为 worker 中失败的请求。排队(计划时间到分派)、ipc(往返时间减去 worker 自身耗时)、计算与批大小均为平均值。"
        )
    }
    var loadEarlyNote: String {
        pick(
            "FAIL (early): the step was stopped once over 1% of its requests had exceeded the SLA (its P99 could no longer meet it).",
            "未通过(提前停止):超过 1% 的请求已超出 SLA 时该步骤即被停止(其 P99 已不可能满足 SLA)。")
    }

    // The steps table.
    var stepColumn: String { "#" }
    var scenarioColumn: String { pick("scenario", "场景") }
    var targetColumn: String { pick("target/s", "目标/秒") }
    var achievedColumn: String { pick("achieved/s", "达成/秒") }
    var sentColumn: String { pick("sent", "发送") }
    var okColumn: String { pick("ok", "成功") }
    var droppedColumn: String { pick("dropped", "丢弃") }
    var errorsColumn: String { pick("errors", "错误") }
    var batchColumn: String { pick("batch", "平均批大小") }
    var p50Column: String { pick("p50 ms", "p50 毫秒") }
    var p99Column: String { pick("p99 ms", "p99 毫秒") }
    var maxColumn: String { pick("max ms", "最大值 毫秒") }
    var breakdownColumn: String { pick("queue / ipc / compute ms", "排队 / ipc / 计算 毫秒") }
    var slaColumn: String { "SLA" }
    var slaPass: String { pick("pass", "通过") }
    var slaFail: String { pick("FAIL", "未通过") }
    var slaFailEarly: String { pick("FAIL (early)", "未通过(提前停止)") }
    var partialStep: String { pick("cut short", "被截断") }

    // The conclusion.
    func loadBest(_ qps: Double, sla: Double, steps: Int) -> String {
        pick(
            "Highest Poisson rate whose P99 stayed within \(Format.trimmed(sla)) ms: \(Format.rate(qps)) requests/s (\(steps) step(s) tried).",
            "P99 不超过 \(Format.trimmed(sla)) 毫秒的最高泊松速率:\(Format.rate(qps)) 请求/秒(共尝试 \(steps) 步)。")
    }
    func loadNoPass(sla: Double, steps: Int) -> String {
        pick(
            "No rate tried kept P99 within \(Format.trimmed(sla)) ms (\(steps) step(s) tried): lower the rate, raise --max-batch or add workers.",
            "所尝试的速率均未能使 P99 不超过 \(Format.trimmed(sla)) 毫秒(共尝试 \(steps) 步):降低速率、增大 --max-batch 或增加 worker。")
    }
    func loadStepSummary(_ step: LoadTestResult) -> String {
        let p99 = step.latencyMS.map { Format.ms($0.p99) }
        let target = (step.rampQPS != nil ? nil : step.targetQPS).map { pick(" (target \(Format.rate($0))/s)", "(目标 \(Format.rate($0))/秒)") } ?? ""
        let latency = p99.map { pick(", P99 \($0) ms", ",P99 \($0) 毫秒") } ?? ""
        return pick(
            "\(step.scenario): \(Format.rate(step.achievedQPS)) requests/s achieved\(target)\(latency), \(step.dropped) dropped, \(step.errors) errors.",
            "\(step.scenario):达成 \(Format.rate(step.achievedQPS)) 请求/秒\(target)\(latency),丢弃 \(step.dropped),错误 \(step.errors)。")
    }
    func loadOffline(_ offline: Double, reached: Double?) -> String {
        let share =
            reached.map {
                pick("; the batcher reached \(String(format: "%.0f", 100 * $0 / offline))% of it", ";批处理器达到其 \(String(format: "%.0f", 100 * $0 / offline))%")
            } ?? ""
        return pick(
            "Offline throughput (all samples available, back to back at the largest batch): \(Format.rate(offline)) samples/s\(share).",
            "离线吞吐量(所有样本就绪,以最大批大小连续执行):\(Format.rate(offline)) 样本/秒\(share)。")
    }
    func loadCutShort(_ step: LoadTestResult, index: Int) -> String {
        let seconds = Format.trimmed(step.durationS.rounded())
        let worst = step.windows.compactMap(\.p99).max().map { pick(", window P99 up to \(Format.ms($0)) ms", ",窗口 P99 最高 \(Format.ms($0)) 毫秒") } ?? ""
        return pick(
            "The test was cut short during step \(index + 1) (\(step.scenario)) after \(seconds) s. Over the \(step.windows.count) window(s) recorded it achieved \(Format.rate(step.achievedQPS)) requests/s\(worst), \(step.errors) dropped or failed; there are no latency percentiles over the whole step.",
            "测试在第 \(index + 1) 步(\(step.scenario))进行 \(seconds) 秒后被截断。在已记录的 \(step.windows.count) 个窗口中达成 \(Format.rate(step.achievedQPS)) 请求/秒\(worst),丢弃或失败 \(step.errors) 个;没有整个步骤的延迟百分位。"
        )
    }
    var loadInterrupted: String { pick("The test was interrupted: the figures cover only the steps that ran.", "测试被中断:数据只覆盖已运行的步骤。") }
    var loadNoSteps: String { pick("No load step finished.", "没有完成任何负载步骤。") }
    func loadWarned(_ n: Int) -> String {
        n > 0
            ? pick("Review the \(n) warning(s) before relying on these figures.", "在采用这些数据之前,请先查看 \(n) 条警告。")
            : pick("No warnings were raised.", "没有警告。")
    }
    var loadNoWarnings: String { pick("None: every step finished without a warning.", "无:所有步骤均无警告。") }

    // The timeline chart.
    var loadTimelineChart: String {
        pick(
            "Timeline: offered and achieved rate, P50 and P99 per window, and the machine beneath; shaded bands are the steps",
            "时间线:每个窗口的提供与达成速率、P50 与 P99,下方为机器状态;底色区块为各测试步骤")
    }
    var rateAxis: String { pick("requests/s", "请求/秒") }
    var windowLatencyAxis: String { pick("latency (ms)", "延迟(毫秒)") }
    var secondsAxis: String { pick("seconds", "秒") }
    var offeredLegend: String { pick("offered", "提供") }
    var achievedLegend: String { pick("achieved", "达成") }
    var rampLegend: String { pick("ramp target", "爬坡目标") }
    var dropsLegend: String { pick("window with dropped or failed requests", "有丢弃或失败请求的窗口") }
    var slaLegend: String { pick("P99 SLA", "P99 SLA") }
    var passLegend: String { pick("step within the SLA", "满足 SLA 的步骤") }
    var failLegend: String { pick("step beyond the SLA", "超出 SLA 的步骤") }
    var gpuUtilLegend: String { pick("GPU SM utilization %", "GPU SM 利用率 %") }
    var gpuPowerLegend: String { pick("GPU power, % of limit", "GPU 功耗(占上限 %)") }
    var hostCPULegend: String { pick("host CPU utilization %", "主机 CPU 利用率 %") }
}
