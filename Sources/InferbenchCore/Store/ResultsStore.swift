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
    /// The file the store lives in.
    public let path: String
    let pool: DatabasePool

    /// `--store PATH`, else `$INFERBENCH_STORE`, else `~/.inferbench/results.sqlite`.
    public static func defaultPath(flag: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let path = environment["INFERBENCH_STORE"], !path.isEmpty { return path }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appending(path: ".inferbench/results.sqlite").path
    }

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public init(path: String) throws(InferbenchError) {
        self.path = path
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
        } catch {
            throw .badInput(
                "store \(path): cannot bring its schema up to date (\(error)); a newer inferbench may have written it — use that version, or give another --store PATH"
            )
        }
    }

    /// Runs `body` against the database, turning GRDB's errors into one that names the store.
    func access<T>(_ what: String, _ body: () throws -> T) throws(InferbenchError) -> T {
        do { return try body() } catch let error as InferbenchError { throw error } catch {
            throw .internal("store \(path): cannot \(what) (\(error)); check the disk, or give another --store PATH")
        }
    }
}
