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
final class StoreRecorder: @unchecked Sendable {
    private let path: String?
    private let lock = NSLock()
    private var store: ResultsStore?
    private var failed = false

    /// A nil path records nothing (`--no-store`).
    init(path: String?) { self.path = path }

    func record(_ results: RunResults, resultsPath: String?) {
        lock.withLock {
            guard let path, !failed else { return }
            do {
                let store = try self.store ?? ResultsStore(path: path)
                self.store = store
                try store.save(results, resultsPath: resultsPath)
            } catch {
                failed = true
                Console.error("results store: \(error); the benchmark goes on without it (--no-store turns the store off)")
            }
        }
    }
}
