import Foundation

/// What the Markdown and HTML reports of a load test say, built once from the results.
enum LoadReportData {
    static func title(_ results: RunResults, _ t: ReportText) -> String {
        results.load.map { "\(t.loadTitle): \($0.model)" } ?? t.loadTitle
    }

    /// One row per step, in the order they ran; SLA failures are marked as failed rows.
    static func steps(_ results: RunResults, _ t: ReportText) -> ReportTable {
        var table = ReportTable(
            headers: [
                t.stepColumn, t.scenarioColumn, t.targetColumn, t.achievedColumn, t.sentColumn, t.okColumn, t.droppedColumn, t.errorsColumn,
                t.p50Column, t.p99Column, t.maxColumn, t.breakdownColumn, t.batchColumn, t.slaColumn,
            ],
            rows: [], numeric: Set([0] + Array(2...12)))
        for (i, s) in results.loadTests.enumerated() {
            let l = s.latencyMS
            let b = s.breakdownMS
            var sla = ""
            if let met = s.slaMet { sla = met ? t.slaPass : (s.stoppedEarly == true ? t.slaFailEarly : t.slaFail) }
            if s.slaMet == false { table.failed.insert(i) }
            table.rows.append([
                String(i + 1), s.scenario + (s.partial == true ? " (\(t.partialStep))" : ""), Format.rate(s.targetQPS), Format.rate(s.achievedQPS),
                String(s.sent), String(s.completed), String(s.dropped), String(s.errors), Format.ms(l?.p50), Format.ms(l?.p99),
                Format.ms(l?.max), b.map { "\(Format.ms($0.queue)) / \(Format.ms($0.transport)) / \(Format.ms($0.compute))" } ?? "-",
                s.meanBatchSize.map { String(format: "%.1f", $0) } ?? "-", sla,
            ])
        }
        return table
    }

    /// The closing paragraph: the highest rate under the SLA, or what each step achieved;
    /// the offline ceiling; whether the test was cut short; the warnings to read.
    static func conclusion(_ results: RunResults, _ t: ReportText) -> String {
        let steps = results.loadTests
        var sentences: [String] = []
        let finished = steps.filter { $0.partial != true }
        if let sla = results.load?.slaP99MS {
            sentences.append(results.load?.bestQPS.map { t.loadBest($0, sla: sla, steps: steps.count) } ?? t.loadNoPass(sla: sla, steps: steps.count))
        } else if finished.count <= 3 {
            sentences += finished.map(t.loadStepSummary)
        } else if let top = finished.max(by: { $0.achievedQPS < $1.achievedQPS }) {
            sentences.append(t.loadStepSummary(top))
        }
        if steps.isEmpty { sentences.append(t.loadNoSteps) }
        if let offline = results.load?.offlineThroughputPerS, offline > 0 {
            sentences.append(t.loadOffline(offline, reached: results.load?.bestQPS ?? finished.map(\.achievedQPS).max()))
        }
        if let i = steps.firstIndex(where: { $0.partial == true }) {
            sentences.append(t.loadCutShort(steps[i], index: i))
        } else if results.run.status == .incomplete {
            sentences.append(t.loadInterrupted)
        }
        sentences.append(t.loadWarned(steps.reduce(0) { $0 + $1.warnings.count }))
        return sentences.joined(separator: t.language == .en ? " " : "")
    }

    /// How to read the steps table (and what FAIL (early) means, when a step has it).
    static func howToRead(_ results: RunResults, _ t: ReportText) -> String {
        t.loadHowToRead + (results.loadTests.contains { $0.stoppedEarly == true } ? (t.language == .en ? " " : "") + t.loadEarlyNote : "")
    }

    /// Each step's warnings, under its number and scenario.
    static func warnings(_ results: RunResults, _ t: ReportText) -> [(step: String, items: [String])] {
        results.loadTests.enumerated().compactMap { i, s in
            s.warnings.isEmpty ? nil : ("\(t.stepColumn)\(i + 1) \(s.scenario)", s.warnings.map(\.message))
        }
    }
}
