import Foundation

/// Why a `--check` found another capacity than the search: the figures of the two that say
/// whether the machine, the process or the margin moved, so that a user can tell a slower day
/// from a wrong answer.
extension RecommendReport {
    /// Fresh starts this far apart (the fastest's lower bound over the slowest's) differ as
    /// processes, not as measurements.
    static let startsApart = 1.5
    /// Offline throughput moved by more than this share between the search and the check.
    static let offlineMoved = 0.1

    /// The reasons a check that disagrees gives, in the report's language; empty when it agrees
    /// or these figures show none.
    static func checkReasons(_ check: CheckRecord, _ record: RecommendRecord, _ t: ReportText) -> [String] {
        guard check.verdict == .disagrees, let best = record.answer?.best else { return [] }
        let now = check.measurement
        let then = record.configs.first { $0.config == best.config }?.latest
        var reasons: [String] = []
        if let starts = startsSpread(now, t) { reasons.append(starts) }
        if let a = now.offlinePerS, let b = then?.offlinePerS, b > 0, abs(a / b - 1) > offlineMoved {
            reasons.append(
                t.pick(
                    "offline throughput \(Format.qps(a)) samples/s against \(Format.qps(b)) in the search (\(Format.factor(a / b))×): the workers themselves ran \(a < b ? "slower" : "faster")",
                    "离线吞吐量 \(Format.qps(a)) 样本/秒,搜索时为 \(Format.qps(b))(\(Format.factor(a / b))×):worker 本身\(a < b ? "变慢" : "变快")了"))
        }
        if let light = lightLoad(now, then: then, t) { reasons.append(light) }
        if best.fragile(slaP99MS: record.question.slaP99MS), let lowest = best.lowestP99MS {
            let share = Recommendation.slaShare(lowest, sla: record.question.slaP99MS)
            reasons.append(
                t.pick(
                    "the recommendation was fragile (P99 \(Format.ms(lowest)) ms at its lightest passing load, \(share)% of the SLA), so a serving path a little slower fails at every rate",
                    "推荐配置本就脆弱(最轻负载下 P99 \(Format.ms(lowest)) 毫秒,SLA 的 \(share)%),服务路径稍慢就在任何速率下都不满足"))
        }
        return reasons
    }

    /// The check's fresh starts, when they differ by ``startsApart`` or more.
    static func startsSpread(_ m: CapacityMeasurement, _ t: ReportText) -> String? {
        guard let starts = m.starts, starts.count > 1 else { return nil }
        let lows = starts.compactMap { $0.lowerQPS ?? $0.upperQPS }
        guard let low = lows.min(), let high = lows.max(), low > 0, high / low >= startsApart else { return nil }
        let each = starts.map { bracket($0.lowerQPS, $0.upperQPS) }.joined(separator: t.pick(", ", "、"))
        return t.pick(
            "its \(starts.count) fresh starts found \(each) req/s (\(Format.factor(high / low))× apart): processes on this host do not run alike",
            "其 \(starts.count) 次重新启动分别测得 \(each) 请求/秒(相差 \(Format.factor(high / low)) 倍):这台主机上的进程运行速度不一")
    }

    /// P99 at the lightest load each passed (or, where the check passed none, at the rate that
    /// failed unloaded), when they differ by a millisecond or more: the serving path's own
    /// latency, before any queueing.
    static func lightLoad(_ now: CapacityMeasurement, then: CapacityMeasurement?, _ t: ReportText) -> String? {
        guard let before = then?.lowestP99MS else { return nil }
        let (after, rate) = now.lowestP99MS.map { ($0, now.lowestP99QPS) } ?? (now.unloadedP99MS.map { ($0, now.unloadedQPS) } ?? (nil, nil))
        guard let after, abs(after - before) >= 1 else { return nil }
        let at = rate.map { t.pick(" at \(Format.qps($0)) req/s", "(\(Format.qps($0)) 请求/秒)") } ?? ""
        return t.pick(
            "P99 at the lightest load \(Format.ms(after)) ms\(at) against \(Format.ms(before)) ms in the search: the serving path's own latency moved",
            "最轻负载下 P99 \(Format.ms(after)) 毫秒\(at),搜索时为 \(Format.ms(before)) 毫秒:服务路径本身的延迟变了")
    }
}
