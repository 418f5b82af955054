import Foundation
import Synchronization

/// A running load test's progress, fed by its events from several tasks, each record handed to
/// the store in the order the events came. At the start and end of every step the run so far
/// is also written to `results.json` (status incomplete, the running step `partial`), so a
/// test killed between steps keeps its finished steps on disk as well as in the store.
public final class LoadRecorder: Sendable {
    private let progress: Mutex<LoadProgress>
    private let recorder: StoreRecorder
    private let sampler: TelemetrySampler?
    private let folder: OutputFolder
    private let files = DispatchQueue(label: "inferbench.load-checkpoint")
    /// Called once, on the first failed write of results.json: the session stops the test.
    private let writeFailed: @Sendable () -> Void

    public init(
        _ results: RunResults, recorder: StoreRecorder, sampler: TelemetrySampler?, folder: OutputFolder,
        writeFailed: @escaping @Sendable () -> Void
    ) {
        progress = Mutex(LoadProgress(results: results))
        self.recorder = recorder
        self.sampler = sampler
        self.folder = folder
        self.writeFailed = writeFailed
    }

    /// The run as the events so far describe it.
    public var results: RunResults { progress.withLock { $0.results } }

    public func handle(_ event: LoadTest.Event) {
        progress.withLock { progress in
            let samples = sampler.map { sampler in { (from: Double, to: Double) in sampler.snapshot(from: from, to: to) } }
            for record in progress.apply(event, telemetry: samples) {
                recorder.record(record, resultsPath: folder.resultsURL.path)
                if case .run(let results) = record { checkpoint(results) }
            }
        }
    }

    /// Waits for the queued checkpoints: call it before writing the final results.json.
    public func drain() { files.sync {} }

    private func checkpoint(_ results: RunResults) {
        files.async {
            guard self.folder.failure == nil else { return }
            if !self.folder.save(results) { self.writeFailed() }
        }
    }
}
