import ArgumentParser
import Foundation
import InferbenchCore

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the Markdown, HTML and CSV reports of a finished run.",
        discussion: "RESULTS is a results.json or the run folder that holds one. Files go next to it unless --out is given; their paths are printed.")

    @Argument(help: "A results.json, or a run folder holding one.")
    var results: String

    @Option(name: .long, help: "Comma-separated formats: md, html, csv (cells.csv and samples.csv), json.")
    var format: String = "md,html,csv"

    @Option(name: .long, help: "Report language: en or zh.")
    var lang: String = "en"

    @Option(name: .long, help: "Folder to write into (default: the folder of RESULTS).")
    var out: String?

    func run() async throws {
        let written: [URL]
        do { written = try execute() } catch { throw failure(error) }
        Console.out(written.map { $0.path + "\n" }.joined())
    }

    func execute() throws(InferbenchError) -> [URL] {
        let formats: [ReportFormat] = try Run.list(format, flag: "--format")
        guard !formats.isEmpty else { throw .badInput("--format: give at least one of md, html, csv, json") }
        guard let language = ReportLanguage(rawValue: lang) else { throw .badInput("--lang \(lang): give en or zh") }
        let (results, source) = try RunResults.load(path: self.results)
        let directory = out.map { URL(fileURLWithPath: $0) } ?? source.deletingLastPathComponent()
        return try ReportFiles.write(results, formats: formats, language: language, to: directory, source: source)
    }
}
