/// The terminal table of load-test steps.
public enum LoadReport {
    /// The steps of a load test and what its `load` object concluded: the capacity interval,
    /// the offline rounds and batching efficiency.
    public static func render(_ steps: [LoadTestResult], load: LoadInfo?) -> String {
        render(steps, offline: load?.offlineThroughputPerS, best: load?.bestQPS, sla: load?.slaP99MS, load: load)
    }

    /// Results written before capacity intervals and offline rounds: one figure each.
    public static func render(_ steps: [LoadTestResult], offline: Double? = nil, best: Double? = nil, sla: Double? = nil) -> String {
        render(steps, offline: offline, best: best, sla: sla, load: nil)
    }

    static func render(_ steps: [LoadTestResult], offline: Double?, best: Double?, sla: Double?, load: LoadInfo?) -> String {
        let t = ReportText(.en)
        // `--offline` alone ran no step: its one figure, without an empty table.
        if steps.isEmpty, let rounds = load?.offline { return t.loadOffline(rounds, efficiency: nil, reached: nil) + "\n" }
        if steps.isEmpty, let offline {
            return "Offline throughput (all samples available, back to back at max batch): \(Format.rate(offline)) samples/s.\n"
        }
        let rule = steps.contains { $0.sla != nil }
        var headers = [
            "scenario", "target/s", "achieved/s", "sent", "ok", "late", "dropped", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "queue", "ipc",
            "compute", "batch",
        ]
        if rule { headers += ["p99 bound", "over SLA", "goodput/s"] }
        headers.append("SLA")
        var table = TextTable(headers: headers, leftAligned: [0, headers.count - 1])
        for s in steps {
            let l = s.latencyMS
            let b = s.breakdownMS
            var row = [
                s.scenario + (s.sla?.repeatOf != nil ? " (repeat)" : "") + ((s.replicate ?? 1) > 1 ? " (\(t.startMark(s.replicate!)))" : ""),
                Format.rate(s.targetQPS), Format.rate(s.achievedQPS), String(s.sent),
                String(s.completed), String(s.late), String(s.dropped), String(s.errors), Format.ms(l?.p50), Format.ms(l?.p90), Format.ms(l?.p99),
                Format.ms(l?.max), Format.ms(b?.queue), Format.ms(b?.transport), Format.ms(b?.compute),
                s.meanBatchSize.map { String(format: "%.1f", $0) } ?? "-",
            ]
            if rule {
                row += [Format.ms(s.sla?.p99BoundMS), s.sla.map(ReportText.overSLA) ?? "-", s.sla.map { Format.rate($0.goodputPerS) } ?? "-"]
            }
            row.append(LoadReportData.verdict(s, t))
            table.rows.append(row)
        }
        var out = table.render()
        out += "\nLatency counts from each request's scheduled time (open loop) or send time (closed loop); queue, ipc and compute are means in ms.\n"
        if rule {
            out +=
                TextTable.hanging(
                    "SLA rule: a step passes when, at 99% confidence, at most 1% of its requests exceed the SLA (k of n over, failures and drops included, with P(X ≤ k | n, 1%) ≤ 1%; n ≥ 459). p99 bound: the latency at the rank the rule allows; over SLA: k/n (≤ the most allowed; ≤a/m: a of the m planned, for a step stopped early); goodput: requests/s within the SLA. A pass within 10% of the SLA is run again (repeat) and its rate must pass both runs."
                ) + "\n"
        }
        if let sla {
            if let capacity = load?.capacity {
                out += TextTable.hanging(t.loadCapacity(capacity, sla: sla, steps: steps)) + "\n"
                if let starts = t.loadStarts(capacity) { out += TextTable.hanging(starts) + "\n" }
            } else {
                out +=
                    best.map { String(format: "Highest rate with P99 ≤ %.1f ms: %@ requests/s.\n", sla, Format.rate($0)) }
                    ?? String(format: "No rate tried kept P99 ≤ %.1f ms.\n", sla)
            }
        }
        if let rounds = load?.offline {
            out += TextTable.hanging(t.loadOffline(rounds, efficiency: load?.batchingEfficiency, reached: best ?? steps.map(\.achievedQPS).max())) + "\n"
            if let starts = t.offlineStarts(rounds) { out += TextTable.hanging(starts) + "\n" }
        } else if let offline {
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
