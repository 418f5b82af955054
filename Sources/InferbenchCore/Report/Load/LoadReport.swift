/// The terminal table of load-test steps.
public enum LoadReport {
    /// The steps of a load test and what its `load` object concluded: the capacity interval,
    /// the offline rounds and batching efficiency.
    public static func render(
        _ steps: [LoadTestResult], load: LoadInfo?, language: ReportLanguage = .en, layout: TerminalLayout? = nil, verdicts: Bool = true
    ) -> String {
        render(
            steps, offline: load?.offlineThroughputPerS, best: load?.bestQPS, sla: load?.slaP99MS, load: load, language: language, layout: layout,
            verdicts: verdicts)
    }

    /// Results written before capacity intervals and offline rounds: one figure each.
    public static func render(_ steps: [LoadTestResult], offline: Double? = nil, best: Double? = nil, sla: Double? = nil) -> String {
        render(steps, offline: offline, best: best, sla: sla, load: nil)
    }

    /// The steps table (fitted to `layout`'s width unless it is nil or wide), how to read it,
    /// the windows over time and the warnings. With `verdicts`, also what the test concluded
    /// (capacity, offline, advice); the terminal summary leaves them to its conclusion, which
    /// says the same sentences once.
    static func render(
        _ steps: [LoadTestResult], offline: Double?, best: Double?, sla: Double?, load: LoadInfo?, language: ReportLanguage = .en,
        layout: TerminalLayout? = nil, verdicts: Bool = true
    ) -> String {
        let t = ReportText(language)
        let wrapWidth = layout?.width ?? TerminalLayout.designWidth
        func note(_ text: String) -> String { TextTable.hanging(text, width: wrapWidth) + "\n" }
        // `--offline` alone ran no step: its one figure, without an empty table.
        if steps.isEmpty, let rounds = load?.offline {
            return note(t.loadOffline(rounds, efficiency: nil, reached: nil, lengths: load?.offlineLengthsRan)) + (t.offlineStarts(rounds).map(note) ?? "")
        }
        if steps.isEmpty, let offline { return note(t.loadOffline(offline, reached: nil)) }
        let rule = steps.contains { $0.sla != nil }
        let copies = steps.contains { $0.breakdownMS?.h2d != nil }
        let server = load?.target != nil
        let (table, dropped) = fitted(
            steps, columns: columns(rule: rule, copies: copies, server: server, t), width: layout.flatMap { $0.wide ? nil : $0.width })
        var out = table
        out += "\n" + note(t.loadTerminalNote(server: server))
        if !dropped.isEmpty { out += note(t.loadLeftOut(dropped, width: wrapWidth)) }
        if steps.contains(where: { $0.latencyMS.map { !$0.supports(percentile: 99) } ?? false }) { out += note(t.loadFewForP99) }
        if rule { out += note(t.loadTerminalRule) }
        if verdicts { out += verdictLines(steps, offline: offline, best: best, sla: sla, load: load, t).map(note).joined() }
        out += timeline(steps, t)
        for s in steps {
            for w in s.warnings { out += note(t.punctuated("\(t.warningLabel): \(t.scenario(s.scenario)): \(t.loadWarning(w, step: s))")) }
        }
        return out
    }

    /// What the test concluded, one sentence a line: capacity (and each start's bracket), the
    /// offline rounds, and advice.
    static func verdictLines(_ steps: [LoadTestResult], offline: Double?, best: Double?, sla: Double?, load: LoadInfo?, _ t: ReportText) -> [String] {
        var lines: [String] = [load.flatMap(t.loadShapesLine)].compactMap { $0 }
        if let sla {
            if let capacity = load?.capacity {
                lines.append(t.loadCapacity(capacity, sla: sla, steps: steps))
                if let starts = t.loadStarts(capacity) { lines.append(starts) }
            } else {
                lines.append(best.map { t.loadBest($0, sla: sla, steps: steps.count) } ?? t.loadNoPass(sla: sla, steps: steps.count))
            }
        }
        if let rounds = load?.offline {
            lines.append(
                t.loadOffline(rounds, efficiency: load?.batchingEfficiency, reached: best ?? steps.map(\.achievedQPS).max(), lengths: load?.offlineLengthsRan))
            if let starts = t.offlineStarts(rounds) { lines.append(starts) }
        } else if let offline, offline > 0 {
            lines.append(t.loadOffline(offline, reached: best ?? steps.map(\.achievedQPS).max()))
        }
        return lines + LoadAdvice.of(steps: steps, load: load).map(t.loadAdvice)
    }

    /// A column of the steps table; on a narrow terminal the lowest `rank` goes first (nil: never).
    struct Column {
        var header: String
        var rank: Int?
        var text: (LoadTestResult) -> String
    }

    /// `copies`: the inputs came from the host, so h2d and d2h stand beside compute. `server`: a
    /// target's steps, timed by the server's own statistics instead of inferbench's batcher.
    static func columns(rule: Bool, copies: Bool = false, server: Bool = false, _ t: ReportText) -> [Column] {
        var columns = [
            Column(header: t.scenarioColumn) { s in
                t.scenario(s.scenario) + (s.sla?.repeatOf.map { " (\(t.repeatOf($0)))" } ?? "")
                    + ((s.replicate ?? 1) > 1 ? " (\(t.startMark(s.replicate!)))" : "")
            },
            Column(header: t.targetColumn, rank: 13) { Format.rate($0.targetQPS) },
            Column(header: t.achievedColumn) { Format.rate($0.achievedQPS) },
            Column(header: t.sentColumn, rank: 2) { String($0.sent) },
            Column(header: t.okColumn, rank: 1) { String($0.completed) },
            Column(header: t.lateColumn, rank: 3) { String($0.late) },
            Column(header: t.droppedColumn, rank: 11) { String($0.dropped) },
            Column(header: t.errorsColumn, rank: 12) { String($0.errors) },
            Column(header: t.p50Column) { Format.ms($0.latencyMS?.p50) },
            Column(header: t.p90Column, rank: 5) { Format.ms($0.latencyMS?.p90) },
            Column(header: t.p99Column) { Format.p99($0.latencyMS) },
            Column(header: t.maxColumn, rank: 4) { Format.ms($0.latencyMS?.max) },
        ]
        columns +=
            server
            ? [
                Column(header: t.serverColumn, rank: 9) { Format.ms($0.breakdownMS?.server) },
                Column(header: t.serverQueueColumn, rank: 6) { Format.ms($0.breakdownMS?.serverQueue) },
                Column(header: t.serverComputeColumn, rank: 7) { Format.ms($0.breakdownMS?.serverCompute) },
            ]
            : [
                Column(header: t.queueColumn, rank: 9) { Format.ms($0.breakdownMS?.queue) },
                Column(header: "ipc", rank: 6) { Format.ms($0.breakdownMS?.transport) },
                Column(header: t.computeColumn, rank: 7) { Format.ms($0.breakdownMS?.compute) },
            ]
        if copies {
            columns += [
                Column(header: "h2d", rank: 6) { Format.ms($0.breakdownMS?.h2d) },
                Column(header: "d2h", rank: 5) { Format.ms($0.breakdownMS?.d2h) },
            ]
        }
        columns += [
            Column(header: t.batchColumn, rank: 8) { LoadReportData.meanBatch($0) },
            // Below every other: the batch column already says how full batches ran.
            Column(header: t.paddingColumn, rank: 0) { LoadReportData.padding($0) },
        ]
        if rule {
            columns += [
                Column(header: t.p99BoundColumn, rank: 14) { Format.ms($0.sla?.p99BoundMS) },
                Column(header: t.overSLAColumn, rank: 10) { s in s.sla.map(ReportText.overSLA) ?? "-" },
                Column(header: t.goodputColumn, rank: 8) { s in s.sla.map { Format.rate($0.goodputPerS) } ?? "-" },
            ]
        }
        columns.append(Column(header: t.slaColumn) { LoadReportData.verdict($0, t) })
        return columns
    }

    /// The table with the columns that fit `width` (every column when nil), and the headers
    /// left out, in the order they went.
    static func fitted(_ steps: [LoadTestResult], columns: [Column], width: Int?) -> (String, [String]) {
        var kept = columns
        var dropped: [String] = []
        while true {
            var table = TextTable(headers: kept.map(\.header), leftAligned: [0, kept.count - 1])
            table.rows = steps.map { s in kept.map { $0.text(s) } }
            let text = table.render()
            let widest = text.split(separator: "\n").map(\.count).max() ?? 0
            guard let width, widest > width, let victim = kept.indices.filter({ kept[$0].rank != nil }).min(by: { kept[$0].rank! < kept[$1].rank! })
            else { return (text, dropped) }
            dropped.append(kept.remove(at: victim).header)
        }
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
