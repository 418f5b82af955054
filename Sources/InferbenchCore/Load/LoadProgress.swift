import Foundation

/// A running load test's results, kept up to date from its events, and what to record of
/// them after each step and each window: the store then holds the test so far when the
/// process is killed (see ``ResultsStore/record(_:resultsPath:)``).
///
/// Not thread-safe: the caller serializes `apply` (events come from several tasks).
public struct LoadProgress: Sendable {
    /// One write to the results store.
    public enum Record: Sendable {
        /// The run as it stands (status incomplete, no telemetry): the finished steps, then the
        /// running one marked `partial` without windows.
        case run(RunResults)
        /// A window of step `step` closed; `telemetry` holds the samples taken since the last
        /// window's record (nil without a sampler).
        case window(runID: String, step: Int, LoadTestResult.Window, telemetry: Timeline?)
    }

    /// The run so far.
    public private(set) var results: RunResults
    private var telemetryRecordedTo = -Double.infinity

    /// `results` is the run as it starts: its run info, environments and `load`.
    public init(results: RunResults) {
        self.results = results
        self.results.run.status = .incomplete
        self.results.telemetry = nil
    }

    /// Folds `event` into the results; returns what to write to the store. `telemetry(from, to)`
    /// gives the samples taken in that span (at least; those outside are dropped), nil without
    /// a sampler: ``TelemetrySampler/snapshot(from:to:)``.
    public mutating func apply(_ event: LoadTest.Event, telemetry: ((Double, Double) -> Timeline)?) -> [Record] {
        switch event {
        case .started(let offline, let pinned):
            results.load?.offlineThroughputPerS = offline?.perS
            if let pinned { results.load?.payloadPinned = pinned }
            results.load?.offline = offline
            return [.run(results)]
        case .stepStarted(let index, var step):
            step.partial = true
            results.loadTests = Array(results.loadTests.prefix(index)) + [step]
            return [.run(results)]
        case .window(let step, let window):
            var samples: Timeline? = nil
            if let telemetry, let end = window.end {
                samples = Self.samples(telemetry(telemetryRecordedTo, end), after: telemetryRecordedTo, upTo: end)
                telemetryRecordedTo = end
            }
            return [.window(runID: results.run.id, step: step, window, telemetry: samples)]
        case .stepFinished(let index, let step):
            results.loadTests = Array(results.loadTests.prefix(index)) + [step]
            // A search's answer so far, so that a test killed half-way still says it.
            if step.slaMet != nil, results.load?.slaP99MS != nil {
                let capacity = Capacity(steps: results.loadTests)
                results.load?.capacity = capacity
                results.load?.bestQPS = capacity.lowerQPS
            }
            return [.run(results)]
        }
    }

    /// The samples stamped in (after, upTo]: each sample is recorded once, in one chunk.
    static func samples(_ timeline: Timeline, after: Double, upTo: Double) -> Timeline {
        var out = timeline
        out.gpu = timeline.gpu.filter { $0.t > after && $0.t <= upTo }
        out.host = timeline.host.filter { $0.t > after && $0.t <= upTo }
        return out
    }
}
