import Foundation
import Synchronization

/// A search for the configuration to deploy, in rounds of successive halving: a screen (one
/// `inferbench run` of every variant: latency alone and at each max batch, accuracy, memory,
/// cold start), then SLA searches (`inferbench load --find-max-qps`) of the configurations
/// that pass it, the better half of each round measured again with steps twice as long, and
/// the last two with fresh starts of their workers (`--processes auto`) for an interval that
/// holds across processes.
///
/// The record is saved after each stage, so a stopped search continues where it was; every
/// decision is recomputed from the measurements, so a resumed search decides as a whole one.
public final class RecommendSearch: Sendable {
    public struct Settings: Sendable {
        /// This inferbench, run for each stage.
        public var executable: String
        /// Flags every stage gets: `--python`, `--no-store` or `--store`.
        public var passThrough: [String]
        public var folder: URL
        /// The store that keeps the record beside the folder's (`recommend --resume ID`).
        public var recorder: StoreRecorder
        public var progress: @Sendable (String) -> Void

        public init(
            executable: String, passThrough: [String], folder: URL, recorder: StoreRecorder = StoreRecorder(path: nil),
            progress: @escaping @Sendable (String) -> Void
        ) {
            self.executable = executable
            self.passThrough = passThrough
            self.folder = folder
            self.recorder = recorder
            self.progress = progress
        }
    }

    let settings: Settings
    let stage = StageProcess()
    private let stopReason = Mutex<StopReason?>(nil)

    public init(settings: Settings) { self.settings = settings }

    public var stopped: StopReason? { stopReason.withLock { $0 } }

    /// Stops the search: the running stage stops as an interrupted inferbench does (keeping what
    /// it finished), and no further stage starts.
    public func stop(_ reason: StopReason) {
        stopReason.withLock { $0 = $0 ?? reason }
        stage.stop(reason)
    }

    /// Runs the search from `record` (new, or read back for `--resume`) to its answer.
    public func run(_ record: RecommendRecord) async throws(InferbenchError) -> RecommendRecord {
        var record = record
        let clock = SpentClock(before: record.spentS)
        if record.screen == nil { try await screen(&record, clock) }
        guard stopped == nil else { return try finish(record, clock) }
        if record.configs.isEmpty { plan(&record) }
        try save(&record, clock)
        try await rounds(&record, clock)
        if stopped == nil, let best = Recommendation.make(record)?.best { try await replicaStarts(&record, best.config, clock) }
        return try finish(record, clock)
    }

    func finish(_ record: RecommendRecord, _ clock: SpentClock) throws(InferbenchError) -> RecommendRecord {
        var record = record
        record.answer = Recommendation.make(record)
        record.status = stopped == nil ? .complete : .incomplete
        record.finishedAt = Date()
        try save(&record, clock)
        return record
    }

    func save(_ record: inout RecommendRecord, _ clock: SpentClock) throws(InferbenchError) {
        record.spentS = clock.spent
        try save(record)
    }

    /// The folder's recommend.json, then the store's copy (which may fail alone: the recorder
    /// says so once and the search goes on).
    func save(_ record: RecommendRecord) throws(InferbenchError) {
        try record.save(folder: settings.folder)
        settings.recorder.record(record, folder: settings.folder)
    }

    // MARK: The screen

    func screen(_ record: inout RecommendRecord, _ clock: SpentClock) async throws(InferbenchError) {
        let q = record.question
        let batches = Array(Set([1] + q.space.maxBatch)).sorted()
        let args =
            ["run"] + q.modelArguments + [
                "--compile", q.space.compile.map(\.rawValue).joined(separator: ","), "--precision", q.space.precision.map(\.rawValue).joined(separator: ","),
                "--batch", batches.map(String.init).joined(separator: ","), "--processes", "1", "--max-time", "3", "--out", path("screen"),
            ] + settings.passThrough
        settings.progress(
            "screen: \(q.space.variants.count) variant\(q.space.variants.count == 1 ? "" : "s") at batch \(batches.map(String.init).joined(separator: ", ")) (inferbench run; log: \(path("screen.log")))"
        )
        let started = Date()
        let (code, problem) = await stage.run(executable: settings.executable, arguments: args, log: settings.folder.appending(path: "screen.log"))
        if stopped != nil { return }  // a screen cut short is run again whole on --resume
        guard let (results, _) = try? RunResults.load(path: path("screen")) else {
            throw .worker(
                "the screen (`inferbench run`) \(problem ?? "ended with exit code \(code.map(String.init) ?? "?")") and wrote no results: see \(path("screen.log"))"
            )
        }
        var variants: [VariantScreen] = []
        for variant in q.space.variants {
            var screen = VariantScreen.read(results, variant: variant) ?? VariantScreen(variant: variant, batches: [])
            screen.judge(q)
            variants.append(screen)
        }
        let environment = results.environments.first
        record.screen = ScreenRecord(
            folder: "screen", command: args, wallS: Date().timeIntervalSince(started), exitCode: code ?? -1, variants: variants,
            device: environment?.device, gpu: environment?.gpus.first?.name)
        try save(&record, clock)
    }

    /// Every configuration of the space, with the screen's verdict on it.
    func plan(_ record: inout RecommendRecord) {
        let q = record.question
        for config in q.space.configs {
            guard let screen = record.screen?.variants.first(where: { $0.variant == config.variant }) else { continue }
            var entry = ConfigRecord(config: config, estimateQPS: config.estimate(screen))
            entry.exclusion = screen.exclusion ?? config.exclusion(screen, q)
            record.configs.append(entry)
        }
    }

    func path(_ relative: String) -> String { settings.folder.appending(path: relative).path }
}

/// Seconds a search has spent, over its sessions.
struct SpentClock {
    let before: Double
    let started = Date()
    var spent: Double { before + Date().timeIntervalSince(started) }
}

extension RecommendSearch {
    /// `--check`: the recommended configuration measured again by a plain `inferbench load
    /// --find-max-qps` (fresh starts, the final round's step length), and whether its bracket
    /// meets the recommended one.
    public func check(_ record: RecommendRecord) async throws(InferbenchError) -> RecommendRecord {
        guard let best = record.answer?.best else {
            throw .badInput(
                "\(settings.folder.path): the search has no recommendation to check (no configuration passed the SLA, or it was stopped before one did); --resume it first"
            )
        }
        var record = record
        let step = record.configs.first { $0.config == best.config }?.latest?.stepS ?? record.question.stepS
        let folder = "check-\(record.checks.count + 1)"
        let args =
            ["load"] + best.config.loadArguments(record.question) + [
                "--find-max-qps", "--sla-p99", Format.trimmed(record.question.slaP99MS), "--light-step", "--processes", "auto", "--duration",
                Format.trimmed(step),
                "--out", path(folder),
            ] + settings.passThrough
        settings.progress("check: \(best.config) (inferbench load --find-max-qps; log: \(path(folder + ".log")))")
        let m = await capacity(args: args, folder: folder, round: 0, processes: "auto", step: step)
        record.checks.append(CheckRecord(measurement: m, agrees: Self.overlaps(m, best)))
        try save(record)  // a check is not the search's time
        return record
    }

    /// Whether a measured bracket and the recommended one share a rate (an absent upper bound
    /// is unbounded).
    static func overlaps(_ m: CapacityMeasurement, _ best: Recommendation.Choice) -> Bool {
        guard m.status == .complete, let lower = m.lowerQPS else { return false }
        return lower <= (best.upperQPS ?? .infinity) && best.lowerQPS <= (m.upperQPS ?? .infinity)
    }
}
