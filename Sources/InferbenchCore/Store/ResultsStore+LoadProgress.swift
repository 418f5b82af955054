import Foundation
import GRDB

extension ResultsStore {
    /// Records a running load test as it goes, each record in one transaction: the run row
    /// (updated in place, so the windows and telemetry already recorded stay) with its finished
    /// steps, or one window with the telemetry samples since the last one.
    ///
    /// A test killed half-way so leaves a run marked `incomplete` whose results (read back with
    /// ``results(runID:)``) hold the finished steps and the windows of the running one. The final
    /// ``save(_:resultsPath:)`` replaces all of it with the finished results.
    public func record(_ record: LoadProgress.Record, resultsPath: String? = nil) throws(InferbenchError) {
        switch record {
        case .run(let results):
            let (json, host) = try encoded(results)
            try access("record load test \(results.run.id)") {
                try pool.write { db in
                    try Self.upsertRun(results, json: json, host: host, resultsPath: resultsPath, db: db)
                    // Finished steps get their final rows; the running one keeps its windows so far.
                    for (index, step) in results.loadTests.enumerated() where step.partial != true {
                        try db.execute(sql: "DELETE FROM load_step WHERE run_id = ? AND step = ?", arguments: [results.run.id, index])
                        try db.execute(sql: "DELETE FROM load_window WHERE run_id = ? AND step = ?", arguments: [results.run.id, index])
                        try Self.insert(step, step: index, run: results.run.id, db: db)
                    }
                }
            }
        case .window(let runID, let step, let window, let telemetry):
            let timelineJSON: String?
            do {
                timelineJSON = try telemetry.map { String(decoding: try RunResults.encoder().encode($0), as: UTF8.self) }
            } catch {
                throw .internal("store \(path): cannot encode the telemetry of run \(runID) (\(error))")
            }
            try access("record a window of load test \(runID)") {
                try pool.write { db in
                    try Self.insert(window, step: step, run: runID, db: db)
                    if let timelineJSON {
                        try db.execute(
                            sql: "INSERT INTO telemetry_chunk (run_id, seq, timeline_json) "
                                + "VALUES (?, (SELECT COALESCE(MAX(seq) + 1, 0) FROM telemetry_chunk WHERE run_id = ?), ?)",
                            arguments: [runID, runID, timelineJSON])
                    }
                }
            }
        }
    }

    /// Fills in what a load test killed half-way recorded only as rows: the windows of its
    /// partial step (with totals summed from them) and its telemetry from the recorded chunks.
    /// Results without a partial step or with telemetry come back as they are.
    func completingPartialLoad(_ results: RunResults, db: Database) throws -> RunResults {
        var results = results
        let id = results.run.id
        for index in results.loadTests.indices where results.loadTests[index].partial == true {
            let windows = try String.fetchAll(
                db, sql: "SELECT window_json FROM load_window WHERE run_id = ? AND step = ? AND window_json IS NOT NULL ORDER BY t",
                arguments: [id, index]
            )
            .map { try RunResults.decoder().decode(LoadTestResult.Window.self, from: Data($0.utf8)) }
            results.loadTests[index] = Self.partialStep(results.loadTests[index], windows: windows)
        }
        if results.telemetry == nil {
            let chunks = try String.fetchAll(db, sql: "SELECT timeline_json FROM telemetry_chunk WHERE run_id = ? ORDER BY seq", arguments: [id])
                .map { try RunResults.decoder().decode(Timeline.self, from: Data($0.utf8)) }
            if var merged = chunks.last {
                merged.gpu = chunks.flatMap(\.gpu)
                merged.host = chunks.flatMap(\.host)
                results.telemetry = merged
            }
        }
        return results
    }

    /// A cut-short step: its windows so far, and the totals they add up to. Latency
    /// percentiles over the whole step cannot be rebuilt from windows, so they stay absent.
    static func partialStep(_ step: LoadTestResult, windows: [LoadTestResult.Window]) -> LoadTestResult {
        var step = step
        step.windows = windows
        let seconds = windows.reduce(0) { $0 + $1.seconds }
        let completed = windows.reduce(0) { $0 + Int(($1.qps * $1.seconds).rounded()) }
        step.completed = completed
        step.errors = windows.reduce(0) { $0 + $1.errors }
        step.sent = windows.reduce(0) { $0 + Int((($1.offeredQPS ?? 0) * $1.seconds).rounded()) }
        step.achievedQPS = seconds > 0 ? Double(completed) / seconds : 0
        step.durationS = seconds
        if let last = windows.last?.end { step.phaseEnd = last }
        return step
    }
}
