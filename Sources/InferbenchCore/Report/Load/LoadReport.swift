/// The terminal table of load-test steps.
public enum LoadReport {
    public static func render(_ steps: [LoadTestResult], offline: Double? = nil, best: Double? = nil, sla: Double? = nil) -> String {
        // `--offline` alone ran no step: its one figure, without an empty table.
        if steps.isEmpty, let offline {
            return "Offline throughput (all samples available, back to back at max batch): \(Format.rate(offline)) samples/s.\n"
        }
        var table = TextTable(
            headers: [
                "scenario", "target/s", "achieved/s", "sent", "ok", "late", "dropped", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "queue", "ipc",
                "compute", "batch", "SLA",
            ],
            leftAligned: [0, 16])
        for s in steps {
            let l = s.latencyMS
            let b = s.breakdownMS
            table.rows.append([
                s.scenario, Format.rate(s.targetQPS), Format.rate(s.achievedQPS), String(s.sent), String(s.completed), String(s.late),
                String(s.dropped), String(s.errors), Format.ms(l?.p50), Format.ms(l?.p90), Format.ms(l?.p99), Format.ms(l?.max),
                Format.ms(b?.queue), Format.ms(b?.transport), Format.ms(b?.compute), s.meanBatchSize.map { String(format: "%.1f", $0) } ?? "-",
                s.slaMet.map { $0 ? "pass" : (s.stoppedEarly == true ? "FAIL (early)" : "FAIL") } ?? "",
            ])
        }
        var out = table.render()
        out += "\nLatency counts from each request's scheduled time (open loop) or send time (closed loop); queue, ipc and compute are means in ms.\n"
        if let sla {
            out +=
                best.map { String(format: "Highest rate with P99 ≤ %.1f ms: %@ requests/s.\n", sla, Format.rate($0)) }
                ?? String(format: "No rate tried kept P99 ≤ %.1f ms.\n", sla)
        }
        if let offline {
            out += "Offline throughput (all samples available, back to back at max batch): \(Format.rate(offline)) samples/s"
            if let peak = (best ?? steps.map(\.achievedQPS).max()), offline > 0 {
                out += String(format: "; the batcher reached %.0f%% of it", 100 * peak / offline)
            }
            out += ".\n"
        }
        out += timeline(steps)
        for s in steps {
            for w in s.warnings { out += TextTable.hanging("warning: \(s.scenario): \(w.message)") + "\n" }
        }
        return out
    }

    static let bars = Array("▁▂▃▄▅▆▇█")

    /// The windows of each step as bars, at most `width` characters a row: achieved rate and
    /// P99 over time, scaled to the highest value of any step so that rows compare. Empty when
    /// no step has three windows or more (a short test says all in its table row).
    static func timeline(_ steps: [LoadTestResult], width: Int = 40) -> String {
        guard steps.contains(where: { $0.windows.count >= 3 }), let window = steps.flatMap(\.windows).map(\.seconds).max() else { return "" }
        let full = steps.flatMap(\.windows).filter { $0.seconds >= window / 2 }
        let topRate = full.map(\.qps).max() ?? 0
        let topP99 = full.compactMap(\.p99).max() ?? 0
        func spark(_ values: [Double?], top: Double, merge: ([Double]) -> Double) -> String {
            let per = max(1, Int((Double(values.count) / Double(width)).rounded(.up)))
            return stride(from: 0, to: values.count, by: per).map { i in
                let chunk = values[i..<min(i + per, values.count)].compactMap { $0 }
                guard !chunk.isEmpty, top > 0 else { return " " }
                return String(bars[min(bars.count - 1, Int(merge(chunk) / top * Double(bars.count - 1) + 0.5))])
            }.joined()
        }
        func range(_ values: [Double], _ format: (Double?) -> String) -> String {
            guard let lo = values.min(), let hi = values.max() else { return "-" }
            return "\(format(lo))–\(format(hi))"
        }
        var table = TextTable(headers: ["scenario", "achieved/s", "min–max", "p99 ms", "min–max"], leftAligned: [0, 1, 3])
        // A window shorter than half the others (the drain at a step's end) is left out, as in
        // the HTML timeline: 3 ms of stragglers would read as a spike of thousands a second.
        for s in steps where !s.windows.isEmpty {
            let windows = s.windows.filter { $0.seconds >= window / 2 }
            let qps = windows.map { Optional($0.qps) }
            let p99 = windows.map(\.p99)
            table.rows.append([
                s.scenario, spark(qps, top: topRate) { $0.reduce(0, +) / Double($0.count) }, range(windows.map(\.qps), Format.rate),
                spark(p99, top: topP99) { $0.max() ?? 0 }, range(p99.compactMap { $0 }, Format.ms),
            ])
        }
        return "\nOver time, per \(Format.trimmed(window)) s window (bars scaled to the highest of all steps; the HTML report draws it with the machine):\n"
            + table.render()
    }
}
