import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The folder one run writes into, and the one owner of its `results.json`.
///
/// Every write is atomic (``AtomicFile``) and checked; the folder remembers what its
/// `results.json` holds after the last write that succeeded and the first failure, so that a
/// session can say exactly what is on disk and what was lost. A failed write is not an
/// exception here: the caller decides (a run stops measuring, a load test stops sending).
public final class OutputFolder: Sendable {
    /// What the `results.json` on disk holds.
    public struct Saved: Sendable, Equatable {
        public var cells: Int
        public var steps: Int
    }

    public let url: URL
    public var resultsURL: URL { url.appending(path: "results.json") }
    public var logs: URL { url.appending(path: "logs") }

    private struct State {
        var saved: Saved?
        var failure: AtomicFile.Failure?
        /// Whether the latest write succeeded: the file on disk is then the latest results.
        var lastSucceeded = false
    }
    private let state = Mutex(State())

    /// Creates the folder (and its `logs/`) and checks that a file can be written in it, so
    /// that a read-only or full disk is bad input before any worker starts, not a raw error
    /// in the middle of a run.
    public init(path: String, flag: String = "--out") throws(InferbenchError) {
        url = URL(fileURLWithPath: path)
        try Self.createDirectory(url, flag: flag)
        try Self.createDirectory(logs, flag: flag)
        let probe = url.appending(path: ".inferbench-write-check")
        do { try AtomicFile.write(Data("ok\n".utf8), to: probe) } catch {
            throw .badInput("\(flag) \(path): cannot write in this folder (\(error.reason)); give a writable folder with \(flag)")
        }
        unlink(probe.path)
    }

    /// `mkdir -p` with the system's reason on failure ("Read-only file system", "Not a
    /// directory" where a file is in the way) instead of Foundation's error dump.
    public static func createDirectory(_ url: URL, flag: String = "--out") throws(InferbenchError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .badInput("\(flag) \(url.path): a file of that name is in the way; give a folder path") }
            return
        }
        let parent = url.deletingLastPathComponent()
        if parent.path != url.path { try createDirectory(parent, flag: flag) }
        if mkdir(url.path, 0o755) != 0, errno != EEXIST {
            let reason = String(cString: strerror(errno))
            throw .badInput("\(flag) \(url.path): cannot create the folder (\(reason)); give a writable folder with \(flag)")
        }
    }

    /// Writes `results.json`; false when it could not (the first failure is kept). Tried
    /// again at every call: a disk that has room again gets the latest results.
    @discardableResult
    public func save(_ results: RunResults) -> Bool {
        do {
            try results.write(to: resultsURL)
            state.withLock {
                $0.saved = Saved(cells: results.cells.count, steps: results.loadTests.filter { $0.partial != true }.count)
                $0.lastSucceeded = true
            }
            return true
        } catch {
            state.withLock {
                if $0.failure == nil { $0.failure = error }
                $0.lastSucceeded = false
            }
            return false
        }
    }

    /// The first failed write of `results.json`, if any.
    public var failure: AtomicFile.Failure? { state.withLock { $0.failure } }
    /// What the `results.json` on disk holds, nil when none was written.
    public var saved: Saved? { state.withLock { $0.saved } }
    /// Whether the latest write succeeded, so that the file holds the latest results.
    public var lastSaveSucceeded: Bool { state.withLock { $0.lastSucceeded } }

    /// "results.json holds 2 of 6 cells" or "no results.json was written": for the error
    /// line that says what a failed write lost.
    public func onDisk(of results: RunResults) -> String {
        guard let saved else { return "no results.json was written" }
        if results.kind == .load {
            let total = results.loadTests.filter { $0.partial != true }.count
            return "\(resultsURL.path) holds \(saved.steps) of \(total) finished steps"
        }
        return "\(resultsURL.path) holds \(saved.cells) of \(results.cells.count) cells"
    }
}
