import Foundation

/// One `inferbench run`: the owner of its output folder, its checkpoints of `results.json`,
/// its record in the results store, its reports and its exit status. The command line parses
/// flags, shows progress and prints what this returns; a test drives the same session
/// in-process with fake workers.
///
/// What is not an error here: a failing cell (it is recorded and the sweep goes on), a store
/// that cannot be opened (the run goes on without it, and the exit status says so at the end).
/// A failed write of `results.json` stops measuring: new cells would be measured into nothing.
public final class RunSession: Sendable {
    /// How a session ended: the results as measured, the exit status, and the error lines
    /// that say what failed and what is on disk.
    public struct Outcome: Sendable {
        public var results: RunResults
        public var status: ExitStatus
        /// The report files written (empty when results.json could not be written).
        public var reports: [URL]
        /// One line each, for stderr: lost writes, failed cells, the interruption.
        public var problems: [String]
    }

    public let folder: OutputFolder
    public let recorder: StoreRecorder
    let runner: BenchmarkRunner
    let formats: [ReportFormat]
    let stopSwitch = StopSwitch()

    public init(runner: BenchmarkRunner, folder: OutputFolder, recorder: StoreRecorder, formats: [ReportFormat] = [.md, .html]) {
        self.runner = runner
        self.folder = folder
        self.recorder = recorder
        self.formats = formats
    }

    /// Stops the run between chunks (Ctrl-C, SIGTERM); finished cells are kept.
    public func stop(_ reason: StopReason) { stopSwitch.stop(reason) }

    /// Runs the plan. Throws only for problems found before the first cell (bad input, no
    /// PyTorch); everything after that is in the outcome.
    public func run(info: RunInfo) async throws(InferbenchError) -> Outcome {
        var runner = self.runner
        let (folder, recorder, stopSwitch) = (self.folder, self.recorder, self.stopSwitch)
        runner.checkpoint = { results in
            if !folder.save(results) { stopSwitch.stop(.writeFailed) }
            recorder.record(results, resultsPath: folder.resultsURL.path)
        }
        let configured = runner
        let measured: Result<RunResults, InferbenchError> = await stopSwitch.guarded {
            do throws(InferbenchError) { return .success(try await configured.run(info: info)) } catch { return .failure(error) }
        }
        return finish(try measured.get())
    }

    /// Marks how the run stopped, writes what is left to write and decides the exit status.
    func finish(_ measured: RunResults) -> Outcome {
        var results = measured
        let reason = stopSwitch.reason
        if let reason {
            // The runner marks the run incomplete when it left cells unrun; a stop after the
            // last cell leaves it complete, which it is.
            if reason == .writeFailed { Self.relabelSkipped(&results) }
            // The runner's last checkpoint saw the old labels: write the final state once more.
            folder.save(results)
            recorder.record(results, resultsPath: folder.resultsURL.path)
        }
        var problems = lostWrites(results)
        var reports: [URL] = []
        if folder.failure == nil || folder.lastSaveSucceeded {
            // Reports are rendered from what results.json holds, never from more.
            do { reports = try ReportFiles.write(results, formats: formats, to: folder.url) } catch {
                problems.append("\(error.description) (results.json is complete; rerun `inferbench report \(folder.url.path)`)")
            }
        }
        if !problems.isEmpty { return Outcome(results: results, status: .writeFailed, reports: reports, problems: problems) }
        if let reason {
            let line = "\(reason == .terminate ? "terminated" : "interrupted"): finished cells were kept in \(folder.resultsURL.path)"
            return Outcome(results: results, status: reason.exitStatus, reports: reports, problems: [line])
        }
        let (status, cellProblems) = Self.cellStatus(results, logs: folder.logs)
        return Outcome(results: results, status: status, reports: reports, problems: cellProblems)
    }

    /// What a failed write lost, in words: one line for results.json, one for the store.
    func lostWrites(_ results: RunResults) -> [String] {
        var lines: [String] = []
        if let failure = folder.failure {
            let finalOK = folder.lastSaveSucceeded
            let notRun = results.cells.filter { $0.status == .skipped && $0.latencyMS == nil }.count
            let stopped =
                finalOK
                ? " (a later write succeeded)"
                : notRun > 0
                    ? "; measuring stopped there (\(notRun) cell\(notRun == 1 ? "" : "s") not run)"
                    : "; the cells measured after it are shown above but not on disk"
            let remedy = failure.remedy
            lines.append("\(failure.description); \(folder.onDisk(of: results))\(stopped). \(remedy) or pass --out elsewhere, then run again")
        }
        if let failure = recorder.failure, let path = recorder.storePath {
            lines.append(
                "the results store \(path) was not fully written (\(failure)); it holds \(recorder.savedCells.map { "\($0) of \(results.cells.count) cells" } ?? "nothing") of this run; results.json is the complete record"
            )
        }
        return lines
    }

    /// Cells stopped because writing failed say so, instead of "interrupted"; those whose
    /// figures were kept say that too.
    static func relabelSkipped(_ results: inout RunResults) {
        for i in results.cells.indices where results.cells[i].status == .skipped && results.cells[i].error?.kind == .interrupted {
            let measured = results.cells[i].latencyMS != nil
            results.cells[i].error?.message =
                !measured
                ? "not run: measuring stopped because results.json could not be written"
                : "stopped while measuring (results.json could not be written); partial figures kept"
        }
    }

    /// Exit status from the cells: 2 when some failed, 5 when every cell failed in its worker.
    static func cellStatus(_ results: RunResults, logs: URL) -> (ExitStatus, [String]) {
        let failed = results.cells.filter { $0.status != .ok }
        guard !failed.isEmpty else { return (.success, []) }
        if failed.count == results.cells.count, failed.allSatisfy({ $0.error.map { ErrorKind.workerFailures.contains($0.kind) } ?? false }) {
            return (.workerFailure, ["every cell failed in its worker (\(failed.first?.error?.message ?? "")); see the logs in \(logs.path)"])
        }
        return (
            .cellsFailed,
            [
                "\(failed.count) of \(results.cells.count) cells failed; the others' results are in \(logs.deletingLastPathComponent().appending(path: "results.json").path)"
            ]
        )
    }
}
