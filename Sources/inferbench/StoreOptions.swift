import ArgumentParser
import Foundation
import InferbenchCore

/// `--store PATH` for the commands that read the results store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Results store, a SQLite file (default: $INFERBENCH_STORE, else ~/.inferbench/results.sqlite).")
    var store: String?

    var path: String { ResultsStore.defaultPath(flag: store) }
}

/// `--store PATH` and `--no-store` for the commands that record runs.
struct RecordingOptions: ParsableArguments {
    @OptionGroup var storeOptions: StoreOptions

    @Flag(name: .long, help: "Do not record this run in the results store.")
    var noStore = false

    func validate() throws {
        if noStore, storeOptions.store != nil { throw ValidationError("--no-store and --store: give one or the other") }
    }

    var recorder: StoreRecorder { StoreRecorder(path: noStore ? nil : storeOptions.path) }
}

/// Records a run in the store at each checkpoint. The store is a convenience: when it cannot
/// be opened or written, one error line says so and the benchmark goes on without it.
///
/// Writes happen in order on one serial queue: a load test's records are queued and return at
/// once (its tasks never wait on the disk), a whole run's save waits for what was queued before.
final class StoreRecorder: @unchecked Sendable {
    private let path: String?
    private let queue = DispatchQueue(label: "inferbench.store")
    private var store: ResultsStore?
    private var failed = false

    /// A nil path records nothing (`--no-store`).
    init(path: String?) { self.path = path }

    /// Saves the whole run, after any queued records, and returns when it is written.
    func record(_ results: RunResults, resultsPath: String?) {
        queue.sync { write { (store) throws(InferbenchError) in try store.save(results, resultsPath: resultsPath) } }
    }

    /// Queues one record of a running load test and returns at once.
    func record(_ progress: LoadProgress.Record, resultsPath: String?) {
        queue.async { self.write { (store) throws(InferbenchError) in try store.record(progress, resultsPath: resultsPath) } }
    }

    /// On the queue only.
    private func write(_ body: (ResultsStore) throws(InferbenchError) -> Void) {
        guard let path, !failed else { return }
        do {
            let store = try self.store ?? ResultsStore(path: path)
            self.store = store
            try body(store)
        } catch {
            failed = true
            Console.error("results store: \(error); the benchmark goes on without it (--no-store turns the store off)")
        }
    }
}

/// A running load test's progress, fed by its events from several tasks, each record handed to
/// the store in the order the events came. At the start and end of every step the run so far
/// is also written to `results.json` (status incomplete, the running step `partial`), so a
/// test killed between steps keeps its finished steps on disk as well as in the store.
final class LoadRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var progress: LoadProgress
    private let recorder: StoreRecorder
    private let sampler: TelemetrySampler?
    private let resultsURL: URL
    private let files = DispatchQueue(label: "inferbench.load-checkpoint")
    private var fileFailed = false

    init(_ results: RunResults, recorder: StoreRecorder, sampler: TelemetrySampler?, resultsURL: URL) {
        progress = LoadProgress(results: results)
        self.recorder = recorder
        self.sampler = sampler
        self.resultsURL = resultsURL
    }

    func handle(_ event: LoadTest.Event) {
        lock.withLock {
            let samples = sampler.map { sampler in { (from: Double, to: Double) in sampler.snapshot(from: from, to: to) } }
            for record in progress.apply(event, telemetry: samples) {
                recorder.record(record, resultsPath: resultsURL.path)
                if case .run(let results) = record { checkpoint(results) }
            }
        }
    }

    /// Waits for the queued checkpoints: call it before writing the final results.json.
    func drain() { files.sync {} }

    private func checkpoint(_ results: RunResults) {
        files.async {
            guard !self.fileFailed else { return }
            do { try results.write(to: self.resultsURL) } catch {
                self.fileFailed = true
                Console.error("cannot write \(self.resultsURL.path) during the test: \(error); the final write will try again")
            }
        }
    }
}
