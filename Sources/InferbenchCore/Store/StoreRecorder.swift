import Foundation
import Synchronization

/// Records a run in the results store at each checkpoint, and knows what the store holds.
///
/// The store is a convenience beside `results.json`: when it cannot be opened or written, one
/// diagnostic says so, the run goes on without it, and ``failure`` makes the session's exit
/// status say that something was lost (``ExitStatus/writeFailed``).
///
/// Writes happen in order on one serial queue: a load test's records are queued and return at
/// once (its tasks never wait on the disk), a whole run's save waits for what was queued before.
public final class StoreRecorder: Sendable {
    private let path: String?
    private let queue = DispatchQueue(label: "inferbench.store")
    private let diagnose: @Sendable (String) -> Void

    private struct State {
        var store: ResultsStore?
        var failure: String?
        var savedCells: Int?
    }
    private let state = Mutex(State())

    /// A nil path records nothing (`--no-store`). `diagnose` receives the one line that says
    /// the store failed.
    public init(path: String?, diagnose: @escaping @Sendable (String) -> Void = { _ in }) {
        self.path = path
        self.diagnose = diagnose
    }

    /// The store's file, nil with `--no-store`.
    public var storePath: String? { path }
    /// Why the store stopped recording, if it did.
    public var failure: String? { state.withLock { $0.failure } }
    /// The cells of this run that the store holds, nil when it holds none of this run.
    public var savedCells: Int? { state.withLock { $0.savedCells } }

    /// Saves the whole run, after any queued records, and returns when it is written.
    public func record(_ results: RunResults, resultsPath: String?) {
        queue.sync {
            let saved = write { (store) throws(InferbenchError) in try store.save(results, resultsPath: resultsPath) }
            if saved { state.withLock { $0.savedCells = results.cells.count } }
        }
    }

    /// Saves a `recommend` search's record, after any queued records, and returns when it is
    /// written.
    public func record(_ search: RecommendRecord, folder: URL) {
        queue.sync { _ = write { (store) throws(InferbenchError) in try store.save(search, folder: folder) } }
    }

    /// Queues one record of a running load test and returns at once.
    public func record(_ progress: LoadProgress.Record, resultsPath: String?) {
        queue.async { _ = self.write { (store) throws(InferbenchError) in try store.record(progress, resultsPath: resultsPath) } }
    }

    /// Waits until every queued record is written.
    public func drain() { queue.sync {} }

    /// On the queue only. True when `body` ran and succeeded.
    private func write(_ body: (ResultsStore) throws(InferbenchError) -> Void) -> Bool {
        guard let path, state.withLock({ $0.failure == nil }) else { return false }
        do throws(InferbenchError) {
            let store: ResultsStore
            if let open = state.withLock({ $0.store }) { store = open } else { store = try ResultsStore(path: path) }
            state.withLock { $0.store = store }
            try body(store)
            return true
        } catch {
            state.withLock { $0.failure = error.description }
            diagnose("results store: \(error); the benchmark goes on without it (--no-store turns the store off)")
            return false
        }
    }
}
