/// The terminal table of load-test steps.
public enum LoadReport {
    /// The steps of a load test and what its `load` object concluded: the capacity interval,
    /// the offline rounds and batching efficiency.
    public static func render(_ steps: [LoadTestResult], load: LoadInfo?, language: ReportLanguage = .en) -> String {
        render(steps, offline: load?.offlineThroughputPerS, best: load?.bestQPS, sla: load?.slaP99MS, load: load, language: language)
    }

    /// Results written before capacity intervals and offline rounds: one figure each.
    public static func render(_ steps: [LoadTestResult], offline: Double? = nil, best: Double? = nil, sla: Double? = nil) -> String {
        render(steps, offline: offline, best: best, sla: sla, load: nil)
    }

    static func render(
        _ steps: [LoadTestResult], offline: Double?, best: Double?, sla: Double?, load: LoadInfo?, language: ReportLanguage = .en
    ) -> String {
        let t = ReportText(language)
        // `--offline` alone ran no step: its one figure, without an empty table.
        if steps.isEmpty, let rounds = load?.offline { return t.loadOffline(rounds, efficiency: nil, reached: nil) + "\n" }
        if steps.isEmpty, let offline { return t.loadOffline(offline, reached: nil) + "\n" }
        let rule = steps.contains { $0.sla != nil }
        var headers = [
            t.scenarioColumn, t.targetColumn, t.achievedColumn, t.sentColumn, t.okColumn, t.lateColumn, t.droppedColumn, t.errorsColumn,
            t.p50Column, t.p90Column, t.p99Column, t.maxColumn, t.queueColumn, "ipc", t.computeColumn, t.batchColumn,
        ]
        if rule { headers += [t.p99BoundColumn, t.overSLAColumn, t.goodputColumn] }
        headers.append(t.slaColumn)
        var table = TextTable(headers: headers, leftAligned: [0, headers.count - 1])
        for s in steps {
            let l = s.latencyMS
            let b = s.breakdownMS
            var row = [
                t.scenario(s.scenario) + (s.sla?.repeatOf.map { " (\(t.repeatOf($0)))" } ?? "")
                    + ((s.replicate ?? 1) > 1 ? " (\(t.startMark(s.replicate!)))" : ""), Format.rate(s.targetQPS), Format.rate(s.achievedQPS),
                String(s.sent), String(s.completed), String(s.late), String(s.dropped), String(s.errors), Format.ms(l?.p50), Format.ms(l?.p90), Format.p99(l),
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
        out += "\n" + TextTable.hanging(t.loadTerminalNote) + "\n"
        if steps.contains(where: { $0.latencyMS.map { !$0.supports(percentile: 99) } ?? false }) { out += TextTable.hanging(t.loadFewForP99) + "\n" }
        if rule { out += TextTable.hanging(t.loadTerminalRule) + "\n" }
        if let sla {
            if let capacity = load?.capacity {
                out += TextTable.hanging(t.loadCapacity(capacity, sla: sla, steps: steps)) + "\n"
                if let starts = t.loadStarts(capacity) { out += TextTable.hanging(starts) + "\n" }
            } else {
                out += TextTable.hanging(best.map { t.loadBest($0, sla: sla, steps: steps.count) } ?? t.loadNoPass(sla: sla, steps: steps.count)) + "\n"
            }
        }
        if let rounds = load?.offline {
            out += TextTable.hanging(t.loadOffline(rounds, efficiency: load?.batchingEfficiency, reached: best ?? steps.map(\.achievedQPS).max())) + "\n"
            if let starts = t.offlineStarts(rounds) { out += TextTable.hanging(starts) + "\n" }
        } else if let offline, offline > 0 {
            out += TextTable.hanging(t.loadOffline(offline, reached: best ?? steps.map(\.achievedQPS).max())) + "\n"
        }
        for advice in LoadAdvice.of(steps: steps, load: load) { out += TextTable.hanging(t.loadAdvice(advice)) + "\n" }
        out += timeline(steps, t)
        for s in steps {
            for w in s.warnings { out += TextTable.hanging(t.punctuated("\(t.warningLabel): \(t.scenario(s.scenario)): \(t.loadWarning(w, step: s))")) + "\n" }
        }
        return out
    }

    static let bars = Array("▁▂▃▄▅▆▇█")

    /// The windows of each step as bars, at most `width` characters a row: achieved rate and
    /// P99 over time, scaled to the highest value of any step so that rows compare. Empty when
    /// no step has three windows or more (a short test says all in its table row).
    static func timeline(_ steps: [LoadTestResult], _ t: ReportText = ReportText(.en), width: Int = 40) -> String {
        guard steps.contains(where: { $0.windows.count >= 3 }), let window = steps.flatMap(\.windows).map(\.seconds).max() else { return "" }
        let full = steps.flatMap(\.windows).filter { $0.seconds >= window / 2 }
        let topRate = full.map(\.qps).max() ?? 0
        let topP99 = full.filter(\.supportsP99).compactMap(\.p99).max() ?? 0
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
        var table = TextTable(headers: [t.scenarioColumn, t.achievedColumn, t.rangeColumn, t.p99Column, t.rangeColumn], leftAligned: [0, 1, 3])
        // A window shorter than half the others (the drain at a step's end) is left out, as in
        // the HTML timeline: 3 ms of stragglers would read as a spike of thousands a second.
        for s in steps where !s.windows.isEmpty {
            let windows = s.windows.filter { $0.seconds >= window / 2 }
            let qps = windows.map { Optional($0.qps) }
            // A window's P99 from fewer than 100 requests is its maximum: left out, as in the tables.
            let p99 = windows.map { $0.supportsP99 ? $0.p99 : nil }
            table.rows.append([
                t.scenario(s.scenario), spark(qps, top: topRate) { $0.reduce(0, +) / Double($0.count) }, range(windows.map(\.qps), Format.rate),
                spark(p99, top: topP99) { $0.max() ?? 0 }, range(p99.compactMap { $0 }, Format.ms),
            ])
        }
        return "\n" + TextTable.hanging(t.loadOverTime(window)) + "\n" + table.render()
    }
}
