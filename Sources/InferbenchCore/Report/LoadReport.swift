/// The terminal table of load-test steps.
public enum LoadReport {
    public static func render(_ steps: [LoadTestResult], offline: Double? = nil, best: Double? = nil, sla: Double? = nil) -> String {
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
        for s in steps {
            for w in s.warnings { out += "warning: \(s.scenario): \(w.message)\n" }
        }
        return out
    }
}
