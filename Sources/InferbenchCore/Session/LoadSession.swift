import Foundation

/// One `inferbench load`: the owner of its output folder, the checkpoints of `results.json`
/// at each step, its record in the store (each window and step), its reports and its exit
/// status. The one copy of the results is the recorder's, folded from the test's events.
///
/// A failed write of `results.json` stops sending (like Ctrl-C): requests in flight finish,
/// what was measured is kept in the store, and the exit status is ``ExitStatus/writeFailed``.
public final class LoadSession: Sendable {
    public typealias Outcome = RunSession.Outcome

    public let folder: OutputFolder
    public let recorder: StoreRecorder
    let test: LoadTest
    let sampler: TelemetrySampler?
    let formats: [ReportFormat]
    let stopSwitch = StopSwitch()

    public init(test: LoadTest, folder: OutputFolder, recorder: StoreRecorder, sampler: TelemetrySampler?, formats: [ReportFormat] = [.md, .html]) {
        self.test = test
        self.folder = folder
        self.recorder = recorder
        self.sampler = sampler
        self.formats = formats
    }

    /// Stops sending new requests; those in flight finish or time out, steps so far are kept.
    public func stop(_ reason: StopReason) { stopSwitch.stop(reason) }

    /// Runs the test from `initial` (run info, environments and `load`). Throws only when a
    /// replica could not start; the outcome's notes name workers that died and restarted.
    public func run(_ initial: RunResults) async throws(InferbenchError) -> (Outcome, LoadTest.Outcome) {
        let stopSwitch = self.stopSwitch
        let live = LoadRecorder(initial, recorder: recorder, sampler: sampler, folder: folder, writeFailed: { stopSwitch.stop(.writeFailed) })
        var test = self.test
        test.events = { live.handle($0) }
        let configured = test
        sampler?.start()
        let ran: Result<LoadTest.Outcome, InferbenchError> = await stopSwitch.guarded {
            do throws(InferbenchError) { return .success(try await configured.run()) } catch { return .failure(error) }
        }
        sampler?.stop()
        live.drain()
        let outcome: LoadTest.Outcome
        switch ran {
        case .success(let o): outcome = o
        case .failure(let error):
            // Nothing was measured; a stop that came while replicas started is not a failure.
            guard stopSwitch.reason != nil else { throw error }
            outcome = LoadTest.Outcome()
        }
        var results = live.results
        results.run.finishedAt = Date()
        results.run.status = stopSwitch.reason == nil ? .complete : .incomplete
        results.loadTests = outcome.steps
        results.load?.offlineThroughputPerS = outcome.offline?.perS
        results.load?.offline = outcome.offline
        results.load?.bestQPS = outcome.capacity?.lowerQPS
        results.load?.capacity = outcome.capacity
        if let capacity = outcome.capacity, let offline = outcome.offline {
            results.load?.batchingEfficiency = BatchingEfficiency(capacity: capacity, offline: offline)
        }
        results.telemetry = sampler?.snapshot()
        if let target = test.target as? OIPTarget, case let problems = target.problems, !problems.isEmpty {
            results.load?.target?.problems = Dictionary(uniqueKeysWithValues: problems.map { ($0.key.rawValue, $0.value) })
        }
        return (finish(results), outcome)
    }

    func finish(_ results: RunResults) -> Outcome {
        let saved = folder.save(results)
        recorder.record(results, resultsPath: folder.resultsURL.path)
        var problems: [String] = []
        if let failure = folder.failure {
            let remedy = failure.remedy
            problems.append(
                "\(failure.description); \(folder.onDisk(of: results))\(saved ? " (a later write succeeded)" : "")\(stopSwitch.reason == .writeFailed ? "; sending stopped there" : ""). \(remedy) or pass --out elsewhere, then run again"
            )
        }
        if let failure = recorder.failure, let path = recorder.storePath {
            problems.append("the results store \(path) was not fully written (\(failure)); results.json is the complete record")
        }
        var reports: [URL] = []
        if saved {
            do { reports = try ReportFiles.write(results, formats: formats, to: folder.url) } catch {
                problems.append("\(error.description) (results.json is complete; rerun `inferbench report \(folder.url.path)`)")
            }
        }
        if !problems.isEmpty { return Outcome(results: results, status: .writeFailed, reports: reports, problems: problems) }
        if let reason = stopSwitch.reason {
            let kept = results.loadTests.count
            let line =
                "\(reason == .terminate ? "terminated" : "interrupted"): \(kept == 1 ? "1 step was" : "\(kept) steps were") kept in \(folder.resultsURL.path)"
            return Outcome(results: results, status: reason.exitStatus, reports: reports, problems: [line])
        }
        let errors = results.loadTests.reduce(0) { $0 + $1.errors }
        if errors > 0 {
            let why =
                results.load?.target != nil
                ? "by kind: \(Self.errorKinds(results.loadTests)); results.json's load.target.problems has the first of each"
                : "a worker died or answered with an error; see the logs in \(folder.logs.path)"
            return Outcome(
                results: results, status: .cellsFailed, reports: reports, problems: ["\(errors) request\(errors == 1 ? "" : "s") failed (\(why))"])
        }
        return Outcome(results: results, status: .success, reports: reports, problems: [])
    }

    /// Failed requests of all steps by kind, `timeout 3, http_5xx 2`.
    static func errorKinds(_ steps: [LoadTestResult]) -> String {
        var kinds: [String: Int] = [:]
        for step in steps { for (k, n) in step.errorKinds ?? [:] where k != RequestFailure.overloaded.rawValue { kinds[k, default: 0] += n } }
        return kinds.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
