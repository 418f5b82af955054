import Foundation

/// Warnings in the report's language. The runner writes each warning's message in English
/// when it measures (results.json keeps it so); a Chinese report words it again from its kind
/// and, where the figures live in the results, from those, so that no English sentence is left.
extension ReportText {
    /// A run cell's warning: the message as recorded in English, its kind's sentence in Chinese.
    func cellWarning(_ kind: WarningKind, message: String) -> String {
        guard language == .zh else { return message }
        let sentences: [WarningKind: String] = [
            .outliers: "部分迭代为统计离群值;请让机器保持空闲(关闭其他负载),或用 --repeats 多测几轮。",
            .bimodal: "延迟呈双峰分布(两种状态);中位数可能随运行而跳变,请检查频率、线程和内存状态。",
            .fewSamples: "样本过少,百分位与区间不可靠;请加大 --min-time 或 --iterations。",
            .warmupUnstable: "预热未稳定,测得数据可能仍含预热效应;请加大 --warmup 或 --min-time。",
            .targetCINotMet: "在 --max-time 用尽时,中位数的置信区间仍宽于目标;请加大 --max-time 或放宽 --target-ci。",
            .throttled: "测量期间 GPU 降频(温度或功耗限制),数据偏慢;请改善散热或降低负载后重测。",
            .memoryGrowth: "运行期间显存持续增长;可能存在泄漏或无限增长的缓存。",
            .accuracy: "输出与 eager fp32 的差异超出容差。",
            .verifyFailed: "无法校验输出(输出校验出错);可用 --no-verify 跳过,或检查模型输出。",
            .processOutlier: "某个进程的中位数与其他进程不一致(该进程处于较慢状态);区间已计入这一差异。",
            .processFailed: "部分进程失败,该单元的数据只来自其余进程。",
            .hostBusy: "测量期间主机的 CPU 被其他进程占用,该单元不给出结论;请在空闲机器上重测。",
            .recompiledWhileMeasuring: "测量期间发生重新编译,部分测量块包含编译时间;请检查输入形状是否变化,或尝试 --dynamic。",
            .late: "部分请求晚于计划时间 1 毫秒以上才发出(负载生成器跟不上);其延迟仍从计划时间算起。",
            .errors: "部分请求失败(worker 退出或返回错误);计为错误,不计入延迟。",
            .p99Drift: "运行后段的 P99 高于前段;请检查显存增长、降温降频或服务路径中的泄漏。",
        ]
        return Self.chinesePunctuation(sentences[kind] ?? "警告(\(kind.rawValue))。")
    }

    /// A load step's warning, with the step's own figures in Chinese.
    func loadWarning(_ w: CellWarning, step: LoadTestResult) -> String {
        guard language == .zh else { return w.message }
        switch w.kind {
        case .errors where step.errors > 0:
            return punctuated("\(step.errors) 个请求失败(worker 退出或返回错误);计为错误,不计入延迟。")
        case .late where step.late > 0:
            return punctuated("\(step.late) 个请求晚于计划时间 1 毫秒以上才发出(负载生成器跟不上);其延迟仍从计划时间算起。")
        case .p99Drift:
            guard let (early, late) = LoadSummary.p99Drift(step) else { break }
            return punctuated("P99 从运行前三分之一的 \(Format.ms(early)) 毫秒升至后三分之一的 \(Format.ms(late)) 毫秒;请检查显存增长、降温降频或服务路径中的泄漏。")
        case .memoryGrowth:
            guard let (first, last) = LoadSummary.memoryGrowth(step) else { break }
            return punctuated("运行期间显存从 \(Format.megabytes(first)) MiB 增长到 \(Format.megabytes(last)) MiB;可能存在泄漏或无限增长的缓存。")
        default:
            break
        }
        return cellWarning(w.kind, message: w.message)
    }

    /// Why a cell failed, in the report's language (`oom` is 显存不足); unknown kinds as recorded.
    func errorKind(_ kind: String) -> String {
        guard language == .zh else { return kind }
        let words: [ErrorKind: String] = [
            .oom: "显存不足", .compile: "编译失败", .unsupported: "不支持", .badRequest: "请求无效", .missingDependency: "缺少依赖",
            .internal: "内部错误", .workerCrash: "worker 崩溃", .timeout: "超时", .workerStart: "worker 无法启动", .protocolViolation: "协议错误",
            .interrupted: "被中断",
        ]
        return words[ErrorKind(rawValue: kind)] ?? kind
    }
}
