import Foundation
import GRDB

/// A `recommend` search as the store lists it.
public struct RecommendSummary: Sendable, Equatable {
    public var id: String
    public var startedAt: Date
    public var status: RunInfo.Status
    public var model: String
    public var slaP99MS: Double
    public var folder: String
    public var answer: String?
}

extension ResultsStore {
    /// Saves a search's record (insert or replace): called after each of its stages, so the
    /// store holds the same record as the folder's recommend.json.
    public func save(_ record: RecommendRecord, folder: URL) throws(InferbenchError) {
        let json: String
        do { json = String(decoding: try RecommendRecord.encoder().encode(record), as: UTF8.self) } catch {
            throw .internal("store \(path): cannot encode search \(record.id) (\(error))")
        }
        try access("save search \(record.id)") {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO recommend (id, started_at, finished_at, status, command, model, sla_p99_ms, folder, answer, record_json)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.id, Self.text(record.startedAt), record.finishedAt.map(Self.text), record.status.rawValue, record.command,
                        record.question.model, record.question.slaP99MS, folder.standardizedFileURL.path, record.answer.map { "\($0.best.config)" }, json,
                    ])
            }
        }
    }

    /// Stored searches, newest first (none in a store older than schema v3).
    public func recommendSearches(prefix: String = "", limit: Int? = nil) throws(InferbenchError) -> [RecommendSummary] {
        guard schema.contains("v3") else { return [] }
        var sql =
            "SELECT id, started_at, status, model, sla_p99_ms, folder, answer FROM recommend WHERE id LIKE ? ESCAPE '\\' ORDER BY started_at DESC, id DESC"
        if let limit { sql += " LIMIT \(max(limit, 0))" }
        return try access("list searches") {
            try pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: [Self.likeEscaped(prefix) + "%"]).map { row in
                    RecommendSummary(
                        id: row["id"], startedAt: Self.date(row["started_at"]) ?? .distantPast, status: RunInfo.Status(rawValue: row["status"]) ?? .incomplete,
                        model: row["model"], slaP99MS: row["sla_p99_ms"], folder: row["folder"], answer: row["answer"])
                }
            }
        }
    }

    /// The stored record of one search, by its id.
    func recommendRecord(id: String) throws(InferbenchError) -> RecommendRecord? {
        guard schema.contains("v3") else { return nil }
        let json = try access("read search \(id)") {
            try pool.read { db in try String.fetchOne(db, sql: "SELECT record_json FROM recommend WHERE id = ?", arguments: [id]) }
        }
        guard let json else { return nil }
        do { return try RecommendRecord.decoder().decode(RecommendRecord.self, from: Data(json.utf8)) } catch {
            throw .badInput("store \(path): search \(id) is not a record this inferbench reads (\(error)); start a new search")
        }
    }

    /// The search a `--resume`/`--check` reference names, and its folder: a search folder (with
    /// its recommend.json), or a stored search's id, a unique prefix of it, or `latest`. A stored
    /// search whose folder is gone gets it back, holding the stored record (its stages' own
    /// results stay in the store as runs).
    public static func resolveSearch(_ reference: String, storePath: String?, flag: String) throws(InferbenchError) -> (RecommendRecord, URL) {
        let asFolder = URL(fileURLWithPath: reference)
        if reference.contains("/") || FileManager.default.fileExists(atPath: reference) {
            return (try RecommendRecord.load(folder: asFolder), asFolder)
        }
        guard let storePath, FileManager.default.fileExists(atPath: storePath) else {
            throw .badInput(
                "\(flag) \(reference): no such search folder, and no results store to look its id up in; give the folder of an earlier `inferbench recommend` (or --store PATH)"
            )
        }
        let store = try ResultsStore(path: storePath, access: .readOnly)
        let matches = try store.recommendSearches(prefix: reference == "latest" ? "" : reference)
        let exact = matches.first { $0.id == reference }
        guard let found = exact ?? (reference == "latest" || matches.count == 1 ? matches.first : nil) else {
            if matches.isEmpty {
                throw .badInput(
                    "\(flag) \(reference): no such search folder, and no stored search with that id in \(storePath); `inferbench history` lists them")
            }
            let shown = matches.prefix(5).map(\.id).joined(separator: ", ") + (matches.count > 5 ? ", …" : "")
            throw .badInput("\(flag) \(reference): \(matches.count) stored searches start with it (\(shown)); give more of the id")
        }
        guard let record = try store.recommendRecord(id: found.id) else {
            throw .badInput("\(flag) \(reference): search \(found.id) vanished from \(storePath) while reading it; try again")
        }
        let folder = URL(fileURLWithPath: found.folder)
        if !FileManager.default.fileExists(atPath: folder.appending(path: RecommendRecord.fileName).path) {
            try OutputFolder.createDirectory(folder)
            try record.save(folder: folder)
        }
        return (record, folder)
    }
}
