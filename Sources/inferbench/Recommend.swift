import ArgumentParser
import Foundation
import InferbenchCore

/// `inferbench recommend`: which configuration to deploy and how many GPUs to buy. The flags
/// are kept as text so that a plan file's values and the command line's merge before one parse.
struct Recommend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Which configuration to deploy and how many GPUs to buy: searches compile mode × precision × max batch × max delay × workers against a P99 bound.",
        discussion: """
            A screen (one `inferbench run` of every variant) drops variants outside the accuracy tolerance, the memory
            or cold-start limit, or slower alone than the bound; then rounds of `inferbench load --find-max-qps` keep the
            better half of the configurations, with longer steps each round and fresh starts in the last. Every stage is a
            plain inferbench command whose results are kept in the search folder. Exit 2 when no configuration meets the
            bound (with what would make one possible); --check exits 3 when the re-measured capacity misses the
            recommended interval.
            """)

    @Argument(help: "A YAML file of the search's settings, keyed by the flags' names (sla-p99: 15); flags override it.")
    var planFile: String?

    @Option(name: .long, help: "The model (one), e.g. resnet50 or bert-base:seq=128.") var model: String?
    @Option(name: .long, help: "The P99 latency bound in milliseconds.") var slaP99: String?
    @Option(name: .long, help: "Peak requests per second to plan GPUs for.") var peakQps: String?
    @Option(name: .long, help: "Share of each GPU's capacity kept free at the peak, 0 to 0.9 (default: 0.3).") var headroom: String?
    @Option(name: .long, help: "Price of one GPU per hour in US dollars, for the cost per million requests and per month.") var gpuPrice: String?
    @Option(name: .long, help: "Most memory one configuration may use, MB (its workers together).") var maxMemoryMb: String?
    @Option(name: .long, help: "Longest load + compile + first call of a new replica, seconds.") var maxColdStart: String?
    @Option(name: .long, help: "Time the whole search may take: 30m, 2h or seconds (default: 30m).") var budget: String?
    @Option(name: .long, help: "Compile modes to search (default: eager,default,reduce-overhead on a GPU; eager,default on a CPU).") var compile: String?
    @Option(name: .long, help: "Precisions to search (default: fp32,fp16,bf16 on a GPU; fp32 on a CPU).") var precision: String?
    @Option(name: .long, help: "Max batch sizes to search (default: 8,32 on a GPU; 1,8 on a CPU).") var maxBatch: String?
    @Option(name: .long, help: "Max delays to search, milliseconds (default: 2).") var maxDelay: String?
    @Option(name: .long, help: "Workers per GPU to search (default: 1).") var workers: String?
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N (default: auto).") var device: String?
    @Flag(name: .long, help: "Convert model and 4-D inputs to channels_last.") var channelsLast = false
    @Option(name: .long, help: "Seed for weights, inputs and arrivals (default: 0).") var seed: String?
    @Option(name: .long, help: "Each step of the first round's SLA searches: 5s or seconds; later rounds double it (default: 5s).") var step: String?

    @Option(
        name: .long,
        help: "Continue a search where it stopped: its folder, or its id in the store (`inferbench history`; a prefix, or latest); --budget may be raised.")
    var resume: String?
    @Option(name: .long, help: "Measure a search's recommendation again with a plain load --find-max-qps: its folder, or its id in the store.")
    var check: String?
    @Option(name: .long, help: "Search folder (default: results/<time>-<id>-recommend).") var out: String?
    @Option(name: .long, help: "Report language: en or zh.") var lang: ReportLanguage = .en
    @Flag(name: .shortAndLong, help: "No progress on stderr.") var quiet = false
    @OptionGroup var python: PythonChoice
    @OptionGroup var recording: RecordingOptions

    func run() async throws {
        let status: ExitStatus
        do { status = try await execute() } catch { throw failure(error) }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    func execute() async throws(InferbenchError) -> ExitStatus {
        if let check { return try await runCheck(folder: check) }
        let (record, folder) = try start()
        let search = RecommendSearch(settings: settings(folder: folder))
        let signals = Interrupt.install { search.stop($0) }
        defer { signals.cancel() }
        let done = try await search.run(record)
        let reports = try RecommendReport.write(done, language: lang, to: folder)
        Console.out(RecommendReport.terminal(done, width: Console.width))
        Console.note("Search: \(folder.appending(path: RecommendRecord.fileName).path)\nReport: \(reports.map(\.path).joined(separator: ", "))")
        if let reason = search.stopped {
            Console.note("\(reason == .terminate ? "terminated" : "interrupted"): what was measured is kept; continue with --resume \(folder.path)")
            return reason.exitStatus
        }
        if done.answer == nil {
            var line = RecommendReport.noAnswer(done, ReportText(.en))
            if done.configs.contains(where: { $0.exclusion?.reason == .budget }) {
                line += "; continue with --resume \(folder.path) --budget LONGER"
            }
            Console.error(line)
            return .cellsFailed
        }
        return .success
    }

    /// The record to run: read back for `--resume` (whose question stands, but for a new
    /// budget), or a new one from the flags and the plan file.
    func start() throws(InferbenchError) -> (RecommendRecord, URL) {
        if let resume {
            let (stored, folder) = try ResultsStore.resolveSearch(resume, storePath: storePath, flag: "--resume")
            var record = stored
            if let budget { record.question.budgetS = try positiveDuration(budget, flag: "--budget") }
            return (record, folder)
        }
        let question = try makeQuestion()
        let id = RunID.make()
        let folder = URL(fileURLWithPath: out ?? "results/\(id)-recommend")
        try OutputFolder.createDirectory(folder)
        let record = RecommendRecord(id: id, command: ShellQuote.join(CommandLine.arguments), question: question)
        try record.save(folder: folder)
        return (record, folder)
    }

    func runCheck(folder reference: String) async throws(InferbenchError) -> ExitStatus {
        let (record, folder) = try ResultsStore.resolveSearch(reference, storePath: storePath, flag: "--check")
        let search = RecommendSearch(settings: settings(folder: folder))
        let signals = Interrupt.install { search.stop($0) }
        defer { signals.cancel() }
        let done = try await search.check(record)
        _ = try RecommendReport.write(done, language: lang, to: folder)
        let check = done.checks.last!
        Console.out(RecommendReport.checkLine(check, done, ReportText(.en)) + "\n")
        if let reason = search.stopped { return reason.exitStatus }
        switch check.verdict {
        case .agrees: return .success
        case .disagrees: return .regression
        case .incomplete, .failed: return .workerFailure
        }
    }

    func settings(folder: URL) -> RecommendSearch.Settings {
        var passThrough: [String] = []
        if let p = python.python { passThrough += ["--python", p] }
        if recording.noStore { passThrough.append("--no-store") }
        if let store = recording.storeOptions.store { passThrough += ["--store", store] }
        let quiet = self.quiet
        return RecommendSearch.Settings(
            executable: Self.executable, passThrough: passThrough, folder: folder, recorder: recording.recorder,
            progress: { if !quiet { Console.note($0) } })
    }

    /// The store searches are recorded in, nil with `--no-store`.
    var storePath: String? { recording.noStore ? nil : recording.storeOptions.path }

    /// This binary, which runs each stage.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}
