import Foundation

/// What the Markdown and HTML reports of a load test say, built once from the results.
enum LoadReportData {
    static func title(_ results: RunResults, _ t: ReportText) -> String {
        results.load.map { t.punctuated("\(t.loadTitle): \($0.model)") } ?? t.loadTitle
    }

    /// Queue / ipc / compute, with the copies to and from the device around compute when the
    /// inputs came from the host; for a target (`server`), the server's time / its queue / its
    /// compute.
    static func breakdown(_ b: LoadTestResult.Breakdown, copies: Bool, server: Bool = false) -> String {
        let parts: [Double?]
        if server {
            parts = [b.server, b.serverQueue, b.serverCompute]
        } else {
            parts = copies ? [b.queue, b.transport, b.h2d, b.compute, b.d2h] : [b.queue, b.transport, b.compute]
        }
        return parts.map { Format.ms($0) }.joined(separator: " / ")
    }

    /// One row per step, in the order they ran; SLA failures are marked as failed rows. Steps of
    /// an SLA search add the rule's figures: the conservative P99, k/n over the SLA, goodput.
    static func steps(_ results: RunResults, _ t: ReportText) -> ReportTable {
        let rule = results.loadTests.contains { $0.sla != nil }
        let copies = results.loadTests.contains { $0.breakdownMS?.h2d != nil }
        // A target's steps carry the server's own timing, not inferbench's batcher's.
        let server = results.load?.target != nil
        var headers = [
            t.stepColumn, t.scenarioColumn, t.targetColumn, t.achievedColumn, t.sentColumn, t.okColumn, t.droppedColumn, t.errorsColumn,
            t.p50Column, t.p99Column, t.maxColumn, server ? t.breakdownColumnServer : copies ? t.breakdownColumnWithCopies : t.breakdownColumn,
            t.batchColumn, t.paddingColumn,
        ]
        if rule { headers += [t.p99BoundColumn, t.overSLAColumn, t.goodputColumn] }
        headers.append(t.slaColumn)
        var table = ReportTable(headers: headers, rows: [], numeric: Set([0] + Array(2...13) + (rule ? [14, 16] : [])))
        for (i, s) in results.loadTests.enumerated() {
            let l = s.latencyMS
            let b = s.breakdownMS
            if s.slaMet == false { table.failed.insert(i) }
            var scenario = t.scenario(s.scenario) + (s.partial == true ? " (\(t.partialStep))" : "")
            if let again = s.sla?.repeatOf { scenario += " (\(t.repeatOf(again)))" }
            if let start = s.replicate, start > 1 { scenario += " (\(t.startMark(start)))" }
            var row = [
                String(i + 1), scenario, Format.rate(s.targetQPS), Format.rate(s.achievedQPS), String(s.sent), String(s.completed),
                String(s.dropped), String(s.errors), Format.ms(l?.p50), Format.p99(l), Format.ms(l?.max),
                b.map { breakdown($0, copies: copies, server: server) } ?? "-",
                meanBatch(s), padding(s),
            ]
            if rule {
                row += [Format.ms(s.sla?.p99BoundMS), s.sla.map(ReportText.overSLA) ?? "-", s.sla.map { Format.rate($0.goodputPerS) } ?? "-"]
            }
            row.append(verdict(s, t))
            table.rows.append(row)
        }
        return table
    }

    /// The mean batch size per batch; "-" for results written before it was recorded, whose
    /// `mean_batch_size` is per request (larger: it weighs each batch by its size).
    static func meanBatch(_ s: LoadTestResult) -> String { s.meanBatchSizePerBatch.map { String(format: "%.1f", $0) } ?? "-" }

    /// Padded samples ÷ real samples, e.g. 1.07.
    static func padding(_ s: LoadTestResult) -> String { s.paddingWaste.map { String(format: "%.2f", $0) } ?? "-" }

    /// pass, pass (close), FAIL, FAIL (early); empty outside an SLA search.
    static func verdict(_ s: LoadTestResult, _ t: ReportText) -> String {
        guard let met = s.slaMet else { return "" }
        if !met { return s.stoppedEarly == true ? t.slaFailEarly : t.slaFail }
        return s.sla?.close == true && s.sla?.repeatOf == nil ? "\(t.slaPass) (\(t.slaClose))" : t.slaPass
    }

    /// The closing paragraph: the capacity interval under the SLA (or, for results written
    /// before it, the highest rate that passed), or what each step achieved; the offline
    /// ceiling and batching efficiency; whether the test was cut short; the warnings to read.
    static func conclusion(_ results: RunResults, _ t: ReportText) -> String {
        let steps = results.loadTests
        var sentences: [String] = []
        let finished = steps.filter { $0.partial != true }
        let load = results.load
        if let sla = load?.slaP99MS {
            if let capacity = load?.capacity {
                sentences.append(t.loadCapacity(capacity, sla: sla, steps: steps))
                if let starts = t.loadStarts(capacity) { sentences.append(starts) }
            } else {
                sentences.append(load?.bestQPS.map { t.loadBest($0, sla: sla, steps: steps.count) } ?? t.loadNoPass(sla: sla, steps: steps.count))
            }
        } else if finished.count <= 3 {
            sentences += finished.map(t.loadStepSummary)
        } else if let top = finished.max(by: { $0.achievedQPS < $1.achievedQPS }) {
            sentences.append(t.loadStepSummary(top))
        }
        if steps.isEmpty && load?.offline == nil && load?.offlineThroughputPerS == nil { sentences.append(t.loadNoSteps) }
        let reached = load?.bestQPS ?? finished.map(\.achievedQPS).max()
        if let offline = load?.offline {
            sentences.append(t.loadOffline(offline, efficiency: load?.batchingEfficiency, reached: reached, lengths: load?.offlineLengthsRan))
            if let starts = t.offlineStarts(offline) { sentences.append(starts) }
        } else if let offline = load?.offlineThroughputPerS, offline > 0 {
            sentences.append(t.loadOffline(offline, reached: reached))
        }
        if let i = steps.firstIndex(where: { $0.partial == true }) {
            sentences.append(t.loadCutShort(steps[i], index: i))
        } else if results.run.status == .incomplete {
            sentences.append(t.loadInterrupted)
        }
        sentences += LoadAdvice.of(results).map(t.loadAdvice)
        sentences.append(t.loadWarned(steps.reduce(0) { $0 + $1.warnings.count }))
        return sentences.joined(separator: t.language == .en ? " " : "")
    }

    /// How to read the steps table (the SLA rule, in a search; what FAIL (early) means, when a
    /// step has it).
    static func howToRead(_ results: RunResults, _ t: ReportText) -> String {
        let space = t.language == .en ? " " : ""
        var out = t.loadHowToRead
        if results.loadTests.contains(where: { $0.sla != nil }) {
            out += space + t.loadRuleNote(confidence: results.load?.capacity?.confidence ?? SLARule.p99.confidence)
        }
        if results.loadTests.contains(where: { $0.stoppedEarly == true }) { out += space + t.loadEarlyNote }
        if results.loadTests.contains(where: { $0.latencyMS.map { !$0.supports(percentile: 99) } ?? false }) { out += space + t.loadFewForP99 }
        return out
    }

    /// Each step's warnings, under its number and scenario.
    static func warnings(_ results: RunResults, _ t: ReportText) -> [(step: String, items: [String])] {
        results.loadTests.enumerated().compactMap { i, s in
            s.warnings.isEmpty ? nil : ("\(t.stepColumn)\(i + 1) \(t.scenario(s.scenario))", s.warnings.map { t.loadWarning($0, step: s) })
        }
    }
}

extension Format {
    /// A step's P99 where its requests support one, "—" where they do not (fewer than 100:
    /// it would be their maximum), "-" where there is no latency at all.
    static func p99(_ latency: LatencySummary?) -> String {
        guard let latency else { return "-" }
        return latency.supportedP99.map { ms($0) } ?? "—"
    }
}

extension LoadTestResult.Window {
    /// Requests completed in the window: its P99 counts only from 100 of them.
    var supportsP99: Bool { (qps * seconds).rounded() >= Double(LatencySummary.minimumSamples(forPercentile: 99)) }
}
