import Foundation
import GRDB

extension ResultsStore {
    /// Saves a run (insert or replace), in one transaction: the run's rows in every table are
    /// replaced, so saving the same run after every cell leaves one copy of its latest state.
    ///
    /// `resultsPath` is the results.json the run also wrote, if any (shown by `report`).
    public func save(_ results: RunResults, resultsPath: String? = nil) throws(InferbenchError) {
        let timelineJSON: String?
        do {
            timelineJSON = try results.telemetry.map { String(decoding: try RunResults.encoder().encode($0), as: UTF8.self) }
        } catch {
            throw .internal("store \(path): cannot encode run \(results.run.id) (\(error))")
        }
        let (json, hostJSON) = try encoded(results)
        try access("save run \(results.run.id)") {
            try pool.write { db in
                let id = results.run.id
                for table in ["environment", "cell", "histogram", "load_step", "load_window", "telemetry", "telemetry_chunk", "run"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE \(table == "run" ? "id" : "run_id") = ?", arguments: [id])
                }
                try Self.upsertRun(results, json: json, host: hostJSON, resultsPath: resultsPath, db: db)
                for cell in results.cells { try Self.insert(cell, run: id, db: db) }
                for (step, load) in results.loadTests.enumerated() { try Self.insert(load, step: step, run: id, db: db) }
                if let timelineJSON {
                    try db.execute(sql: "INSERT INTO telemetry (run_id, timeline_json) VALUES (?, ?)", arguments: [id, timelineJSON])
                }
            }
        }
    }

    /// The results document and its host as JSON text.
    func encoded(_ results: RunResults) throws(InferbenchError) -> (json: String, host: String) {
        do {
            return (
                String(decoding: try RunResults.encoder().encode(results), as: UTF8.self),
                String(decoding: try JSONEncoder().encode(results.run.host), as: UTF8.self)
            )
        } catch {
            throw .internal("store \(path): cannot encode run \(results.run.id) (\(error))")
        }
    }

    /// Inserts the run's row, or updates it in place (an update keeps the rows that refer to it),
    /// and its environments.
    static func upsertRun(_ results: RunResults, json: String, host: String, resultsPath: String?, db: Database) throws {
        let run = results.run
        let id = run.id
        let kind = results.kind.rawValue
        try db.execute(
            sql: """
                INSERT INTO run (id, kind, started_at, finished_at, status, command, hostname, host, inferbench_version,
                                 cells_total, cells_ok, results_path, results_json, model)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, started_at = excluded.started_at, finished_at = excluded.finished_at,
                    status = excluded.status, command = excluded.command, hostname = excluded.hostname, host = excluded.host,
                    inferbench_version = excluded.inferbench_version, cells_total = excluded.cells_total, cells_ok = excluded.cells_ok,
                    results_path = excluded.results_path, results_json = excluded.results_json, model = excluded.model
                """,
            arguments: [
                id, kind, Self.text(run.startedAt), run.finishedAt.map(Self.text), run.status.rawValue, run.command, run.host.hostname, host,
                run.inferbenchVersion, results.plannedCells, results.cells.filter { $0.status == .ok }.count, resultsPath, json,
                results.load?.model,
            ])
        for env in results.environments {
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO environment (run_id, name, python, python_version, torch, cuda, cudnn, triton, device, gpu, gpu_count, driver)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, env.name, env.python, env.pythonVersion, env.torch, env.cuda, env.cudnn, env.triton, env.device,
                    env.gpus.first?.name, env.gpus.count, env.gpus.first?.driver,
                ])
        }
    }

    static func insert(_ cell: CellResult, run id: String, db: Database) throws {
        let l = cell.latencyMS
        let raw: [(any DatabaseValueConvertible)?] = [
            id, cell.id, cell.model, cell.environment, cell.variant.compile.rawValue, cell.variant.precision.rawValue,
            cell.variant.batchSize, cell.variant.channelsLast, cell.device, cell.status.rawValue, cell.error?.kind.rawValue, cell.error?.message,
            l?.n, l?.mean, l?.stddev, l?.min, l?.p50, l?.p90, l?.p95, l?.p99, l?.p999, l?.max,
            l?.ci95.p50.lower, l?.ci95.p50.upper, cell.throughputPerS,
            cell.coldStart?.loadS, cell.coldStart?.compileS, cell.coldStart?.firstCallMS, cell.memoryMB?.peakAllocated,
        ]
        let values = raw.map(Self.finite)
        try db.execute(
            sql: "INSERT OR REPLACE INTO cell (run_id, cell_id, model, environment, compile, precision, batch_size, channels_last, device, status, "
                + "error_kind, error_message, n, mean, stddev, min, p50, p90, p95, p99, p999, max, p50_ci_low, p50_ci_high, throughput, "
                + "load_s, compile_s, first_call_ms, peak_allocated_mb) VALUES (" + Array(repeating: "?", count: values.count).joined(separator: ", ") + ")",
            arguments: StatementArguments(values))
        if let samples = cell.samplesNS, !samples.isEmpty {
            var blob = Data(capacity: samples.count * 8)
            for sample in samples { withUnsafeBytes(of: sample.littleEndian) { blob.append(contentsOf: $0) } }
            try db.execute(
                sql: "INSERT OR REPLACE INTO histogram (run_id, cell_id, encoding, count, samples) VALUES (?, ?, 'int64le-ns', ?, ?)",
                arguments: [id, cell.id, samples.count, blob])
        }
    }

    static func insert(_ load: LoadTestResult, step: Int, run id: String, db: Database) throws {
        let raw: [(any DatabaseValueConvertible)?] = [
            id, step, load.scenario, load.targetQPS, load.achievedQPS, load.concurrency, load.completed, load.errors,
            load.latencyMS?.p50, load.latencyMS?.p99, load.slaMet,
        ]
        let values = raw.map(Self.finite)
        try db.execute(
            sql: "INSERT INTO load_step (run_id, step, scenario, target_qps, achieved_qps, concurrency, completed, errors, p50, p99, sla_met) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: StatementArguments(values))
        for w in load.windows { try insert(w, step: step, run: id, db: db) }
    }

    static func insert(_ w: LoadTestResult.Window, step: Int, run id: String, db: Database) throws {
        let json = String(decoding: try RunResults.encoder().encode(w), as: UTF8.self)
        let row: [(any DatabaseValueConvertible)?] = [
            id, step, w.t, w.seconds, w.qps, w.p50, w.p99, w.errors, w.gpuUtil, w.powerW, w.memUsedMB, w.start, w.end, w.offeredQPS, json,
        ]
        try db.execute(
            sql: "INSERT INTO load_window (run_id, step, t, seconds, qps, p50, p99, errors, gpu_util, power_w, mem_used_mb, "
                + "start_t, end_t, offered_qps, window_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: StatementArguments(row.map { Self.finite($0) }))
    }

    /// SQLite has no NaN (it reads back as NULL) nor a portable infinity: store them as NULL.
    static func finite(_ value: (any DatabaseValueConvertible)?) -> (any DatabaseValueConvertible)? {
        if let d = value as? Double, !d.isFinite { return nil }
        return value
    }

    static func text(_ date: Date) -> String { date.formatted(.iso8601) }
}
