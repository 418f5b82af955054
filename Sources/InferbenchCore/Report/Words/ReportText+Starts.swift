import Foundation

/// Words for a load test measured on several fresh starts of its workers (`--processes`).
extension ReportText {
    /// The step table's mark of a start after the first: `start 2`.
    func startMark(_ replicate: Int) -> String { pick("start \(replicate)", "第 \(replicate) 次启动") }

    /// Each start's capacity bracket, and that the capacity is their union: nil with one start.
    func loadStarts(_ c: Capacity) -> String? {
        guard let starts = c.replicates, starts.count > 1 else { return nil }
        let brackets = starts.enumerated().map { "\(startMark($0.offset + 1)) \(bracket($0.element))" }.joined(separator: pick(", ", ","))
        let apart = Capacity.disjoint(starts)
        return pick(
            "The workers were started afresh \(starts.count) times: \(brackets) requests/s\(apart ? " — the starts disagree beyond the search's resolution, as a cloud GPU host's processes can" : ""); the capacity above spans them all.",
            "worker 共重新启动 \(starts.count) 次:\(brackets) 请求/秒\(apart ? "——各次启动的结果差异超出搜索精度(云 GPU 主机上的进程可能如此)" : "");上面的容量区间涵盖全部启动。")
    }

    /// Each start's offline rate: nil with one start.
    func offlineStarts(_ o: OfflineThroughput) -> String? {
        guard let starts = o.replicateRoundsPerS, starts.count > 1 else { return nil }
        let rates = starts.map { Format.qps(OfflineThroughput.logInterval($0).estimate) }.joined(separator: pick(", ", "、"))
        return pick(
            "Offline throughput of each fresh start of the workers: \(rates) samples/s; the interval above spans the starts.",
            "各次重新启动 worker 的离线吞吐量:\(rates) 样本/秒;上面的区间涵盖各次启动。")
    }

    /// One start's bracket: `6,726–6,936`, `≥ 7,000`, `< 500`, or `?`.
    private func bracket(_ c: Capacity) -> String {
        switch c.kind {
        case .interval: return "\(Format.qps(c.lowerQPS ?? 0))–\(Format.qps(c.upperQPS ?? 0))"
        case .atLeast: return "≥ \(Format.qps(c.lowerQPS ?? 0))"
        case .below: return "< \(Format.qps(c.upperQPS ?? 0))"
        case .unknown: return "?"
        }
    }
}
