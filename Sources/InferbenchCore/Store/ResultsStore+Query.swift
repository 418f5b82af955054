import Foundation
import GRDB

extension ResultsStore {
    /// Stored runs, newest first.
    ///
    /// `model` matches a cell's model exactly or by name before its parameters (`bert-base`
    /// matches `bert-base:seq=512`); `environment` matches an environment's name or its torch
    /// version; `since` keeps runs started at or after that instant. No match is an empty list.
    public func runs(model: String? = nil, environment: String? = nil, since: Date? = nil, limit: Int? = nil) throws(InferbenchError) -> [RunSummary] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        // Schema v1 (read as it is by a reader) has no run.model: a load test's model is then unknown.
        let runModel = schema.contains("v2") ? "run.model" : "NULL"
        if let model {
            conditions.append(
                "(EXISTS (SELECT 1 FROM cell WHERE cell.run_id = run.id AND (cell.model = ? OR cell.model LIKE ? ESCAPE '\\')) "
                    + "OR \(runModel) = ? OR \(runModel) LIKE ? ESCAPE '\\')")
            arguments += [model, Self.likeEscaped(model) + ":%", model, Self.likeEscaped(model) + ":%"]
        }
        if let environment {
            conditions.append("EXISTS (SELECT 1 FROM environment e WHERE e.run_id = run.id AND (e.name = ? OR e.torch = ?))")
            arguments += [environment, environment]
        }
        if let since {
            conditions.append("started_at >= ?")
            arguments.append(Self.text(since))
        }
        var sql =
            "SELECT id, kind, started_at, finished_at, status, command, hostname, cells_total, cells_ok, results_path, \(runModel) AS model, "
            + "(SELECT COUNT(*) FROM load_step WHERE load_step.run_id = run.id) AS load_steps, "
            + "(SELECT COUNT(*) FROM load_window WHERE load_window.run_id = run.id) AS load_windows FROM run"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY started_at DESC, id DESC"
        if let limit { sql += " LIMIT \(max(limit, 0))" }
        return try access("list runs") {
            try pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                    let id: String = row["id"]
                    var summary = RunSummary(
                        id: id, kind: RunResults.Kind(rawValue: row["kind"] ?? "run") ?? .run, startedAt: Self.date(row["started_at"]) ?? .distantPast,
                        finishedAt: (row["finished_at"] as String?).flatMap(Self.date),
                        status: RunInfo.Status(rawValue: row["status"]) ?? .incomplete, command: row["command"], hostname: row["hostname"],
                        environments: [], models: [], cellsOK: row["cells_ok"], cellsTotal: row["cells_total"], bestP50: [:],
                        resultsPath: row["results_path"], loadSteps: row["load_steps"], loadWindows: row["load_windows"])
                    if let model: String = row["model"] { summary.models.append(model) }
                    summary.environments = try Row.fetchAll(
                        db, sql: "SELECT name, torch, gpu FROM environment WHERE run_id = ? ORDER BY rowid", arguments: [id]
                    )
                    .map { RunSummary.Environment(name: $0["name"], torch: $0["torch"], gpu: $0["gpu"]) }
                    for cell in try Row.fetchAll(db, sql: "SELECT model, status, p50 FROM cell WHERE run_id = ? ORDER BY rowid", arguments: [id]) {
                        let model: String = cell["model"]
                        if !summary.models.contains(model) { summary.models.append(model) }
                        if (cell["status"] as String) == "ok", let p50: Double = cell["p50"] {
                            summary.bestP50[model] = min(summary.bestP50[model] ?? .infinity, p50)
                        }
                    }
                    return summary
                }
            }
        }
    }

    /// A stored run's results exactly as saved; nil when the store has no run with that id.
    ///
    /// A load test killed half-way comes back with the windows it recorded of the step it was
    /// running (that step is `partial`) and the telemetry recorded so far.
    public func results(runID: String) throws(InferbenchError) -> RunResults? {
        try access("read run \(runID)") {
            try pool.read { db in
                guard let json = try String.fetchOne(db, sql: "SELECT results_json FROM run WHERE id = ?", arguments: [runID]) else { return nil }
                let results: RunResults
                do {
                    results = try RunResults.decoder().decode(RunResults.self, from: Data(json.utf8))
                } catch {
                    throw InferbenchError.badInput(
                        "store \(path): run \(runID) holds results this inferbench cannot read (\(error)); use the inferbench version that wrote it")
                }
                guard results.run.status == .incomplete else { return results }
                return try completingPartialLoad(results, db: db)
            }
        }
    }

    /// Ids of stored runs that start with `prefix` (all runs for ""), newest first.
    public func runIDs(prefix: String) throws(InferbenchError) -> [String] {
        try access("list runs") {
            try pool.read { db in
                try String.fetchAll(
                    db, sql: "SELECT id FROM run WHERE id LIKE ? ESCAPE '\\' ORDER BY started_at DESC, id DESC",
                    arguments: [Self.likeEscaped(prefix) + "%"])
            }
        }
    }

    /// The results.json path a stored run was saved with, if any.
    public func resultsPath(runID: String) throws(InferbenchError) -> String? {
        try access("read run \(runID)") {
            try pool.read { db in try String.fetchOne(db, sql: "SELECT results_path FROM run WHERE id = ?", arguments: [runID]) }
        }
    }

    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    static func date(_ text: String) -> Date? { try? Date(text, strategy: .iso8601) }
}
