import Foundation
import GRDB

/// The results store: every run's results in one SQLite database (WAL mode), written as each
/// cell finishes (a load test: each window and step), so that a run killed half-way keeps what
/// it finished and reads `incomplete`.
///
/// The `run` table keeps the whole `RunResults` JSON as the source of truth; the other tables
/// (environments, cells, histograms, load windows, telemetry) copy out what `history` and
/// queries need. A store file that does not exist yet is not an error: it is created, with
/// its folder, and migrated to the current schema.
public final class ResultsStore: Sendable {
    /// How a command uses the store: `run` and `load` write it, `history`, `report` and
    /// `compare` only read it.
    public enum Access: Sendable {
        case readWrite
        /// No migration, no lock, no change to the file: works beside a writer (WAL) and on a
        /// read-only file; an older schema is read as it is, a newer one is refused.
        case readOnly
    }

    /// The file the store lives in.
    public let path: String
    let pool: any DatabaseWriter
    /// The migrations the file has, oldest first: queries leave out what an older schema lacks.
    let schema: [String]

    /// `--store PATH`, else `$INFERBENCH_STORE`, else `~/.inferbench/results.sqlite`.
    public static func defaultPath(flag: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let path = environment["INFERBENCH_STORE"], !path.isEmpty { return path }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appending(path: ".inferbench/results.sqlite").path
    }

    /// Opens (creating if needed) the store at `path` and brings its schema up to date; or,
    /// with `.readOnly`, opens an existing store as it is.
    public init(path: String, access: Access = .readWrite) throws(InferbenchError) {
        self.path = path
        if access == .readOnly {
            (pool, schema) = try Self.openReadOnly(path: path)
            return
        }
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .badInput("store \(path): cannot create its folder (\(error.localizedDescription)); give a writable --store PATH or set INFERBENCH_STORE")
        }
        var configuration = Configuration()
        // Another inferbench may be writing (two runs at once): wait for it rather than fail.
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw .badInput("store \(path): cannot open it as SQLite (\(error)); give another --store PATH, or move the file away to start a new store")
        }
        do {
            try Self.migrator.migrate(pool)
            schema = try pool.read { db in try Self.migrator.appliedMigrations(db) }
        } catch {
            throw .badInput(
                "store \(path): cannot bring its schema up to date (\(error)); a newer inferbench may have written it — use that version, or give another --store PATH"
            )
        }
    }

    /// Opens an existing store for reading only, after checking that it is one of ours and
    /// not newer than this inferbench.
    static func openReadOnly(path: String) throws(InferbenchError) -> (any DatabaseWriter, [String]) {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch {
            // A WAL store on a read-only disk has no -shm to share: nobody can write there, so
            // SQLite may read it as immutable.
            guard let immutable = try? DatabaseQueue(path: "file:\(path)?immutable=1", configuration: configuration) else {
                throw .badInput("store \(path): cannot open it as SQLite (\(error)); give another --store PATH")
            }
            queue = immutable
        }
        let known = migrator.migrations
        let applied: [String]
        do {
            applied = try queue.read { db -> [String] in
                let tables = try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
                guard tables.contains("grdb_migrations"), tables.contains("run") else { return [] }
                return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
        } catch {
            throw .badInput("store \(path): cannot read it (\(error)); is it an SQLite file? Give another --store PATH")
        }
        guard !applied.isEmpty else {
            throw .badInput("store \(path): not an inferbench results store (no runs table); it was left unchanged. Give another --store PATH")
        }
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw .badInput(
                "store \(path): written by a newer inferbench (schema \(applied.sorted().last ?? "?"); this one knows up to \(known.last ?? "?")); use that version to read it"
            )
        }
        return (queue, known.filter { applied.contains($0) })
    }

    /// Runs `body` against the database, turning GRDB's errors into one that names the store.
    func access<T>(_ what: String, _ body: () throws -> T) throws(InferbenchError) -> T {
        do { return try body() } catch let error as InferbenchError { throw error } catch {
            throw .internal("store \(path): cannot \(what) (\(error)); check the disk, or give another --store PATH")
        }
    }
}
