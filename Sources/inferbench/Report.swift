import ArgumentParser
import Foundation
import InferbenchCore

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the Markdown, HTML and CSV reports of a finished run, or print its summary.",
        discussion: """
            RESULTS is a results.json, the run folder that holds one, or a run in the results store (its id, a \
            unique id prefix, or latest). Files go next to the results.json unless --out is given (a stored run \
            whose folder is gone goes to results/<id>); their paths are printed. --summary prints the \
            terminal summary that `run` or `load` printed; with --format none it writes nothing. A `recommend` \
            search folder gets its report.md and report.html again.
            """)

    @Argument(help: "A results.json, a run folder holding one, or a stored run (id, unique id prefix, or latest).")
    var results: String

    @Option(name: .long, help: "Comma-separated formats: md, html, csv (cells.csv and samples.csv), json; none writes no file.")
    var format: String = "md,html,csv"

    @Flag(name: .long, help: "Print the terminal summary (as run and load print it) before the paths written.")
    var summary = false

    @Option(name: .long, help: "Report language: en or zh.")
    var lang: ReportLanguage = .en

    @Option(name: .long, help: "Folder to write into (default: the folder of RESULTS).")
    var out: String?

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let written: [URL]
        do { written = try execute() } catch { throw failure(error) }
        Console.out(written.map { $0.path + "\n" }.joined())
    }

    func execute() throws(InferbenchError) -> [URL] {
        let none = format.trimmingCharacters(in: .whitespaces) == "none"
        let formats: [ReportFormat] = none ? [] : try CommaList.parse(format, flag: "--format")
        guard !formats.isEmpty || none else { throw .badInput("--format: give at least one of md, html, csv, json, or none") }
        if none && !summary { throw .badInput("--format none writes nothing: add --summary to print the summary") }
        let language = lang
        if let written = try recommendReports(language: language) { return written }
        let resolved = try ResultsStore.resolve(self.results, storePath: storeOptions.path)
        let results = resolved.results
        if summary { Console.out(TerminalReport.summary(results, layout: TerminalLayout(width: Console.width), language: language)) }
        if none { return [] }
        // A stored run's results.json may be gone, or stale (killed runs): only a file read is `source`.
        let source = resolved.fromStore ? nil : resolved.file
        let folder = resolved.file.map { $0.deletingLastPathComponent() }.flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0 : nil }
        let directory = out.map { URL(fileURLWithPath: $0) } ?? folder ?? URL(fileURLWithPath: "results/\(results.run.id)")
        return try ReportFiles.write(results, formats: formats, language: language, to: directory, source: source)
    }

    /// A `recommend` search folder (or its recommend.json): its report.md and report.html again,
    /// in `--lang`, the answer decided again from the measurements; nil for anything else.
    func recommendReports(language: ReportLanguage) throws(InferbenchError) -> [URL]? {
        var folder = URL(fileURLWithPath: results)
        if folder.lastPathComponent == RecommendRecord.fileName { folder = folder.deletingLastPathComponent() }
        guard FileManager.default.fileExists(atPath: folder.appending(path: RecommendRecord.fileName).path) else { return nil }
        var record = try RecommendRecord.load(folder: folder)
        // The answer from the measurements by today's rules, as a resumed search would decide it.
        record.rereadMeasurements(folder: folder)
        record.answer = Recommendation.make(record)
        if summary { Console.out(RecommendReport.terminal(record, width: Console.width)) }
        if format.trimmingCharacters(in: .whitespaces) == "none" { return [] }
        return try RecommendReport.write(record, language: language, to: out.map { URL(fileURLWithPath: $0) } ?? folder)
    }
}
