import ArgumentParser
import Foundation
import InferbenchCore

struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two runs cell by cell (B against A), e.g. two PyTorch versions or two machines.",
        discussion: """
            Cells match on model, compile mode, precision, batch size and channels_last (and on the environment \
            when both runs hold several). Each match shows B/A with its 95% interval; a difference counts only when \
            the interval excludes 1.0. Exit status 3 with --fail-on-regression when a match is significantly slower \
            by more than PCT percent; cells found in one run only are listed, not errors.
            """)

    @Argument(help: "The baseline: a results.json or a run folder.")
    var a: String

    @Argument(help: "The candidate: a results.json or a run folder.")
    var b: String

    @Option(name: .long, help: "Fail (exit 3) when a cell is significantly slower in B by more than PCT percent.")
    var failOnRegression: Double?

    @Option(name: .long, help: "p50, mean, p99 or throughput.")
    var metric: String = "p50"

    func validate() throws {
        if let pct = failOnRegression, !(pct >= 0 && pct.isFinite) {
            throw ValidationError("--fail-on-regression \(pct): give a percentage ≥ 0, e.g. 5 for 5%")
        }
    }

    func run() async throws {
        do { try execute() } catch { throw failure(error) }
    }

    func execute() throws(InferbenchError) {
        guard let metric = CompareMetric(rawValue: metric) else {
            throw .badInput("--metric \(self.metric): give one of \(CompareMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let (resultsA, urlA) = try RunResults.load(path: a, role: "A")
        let (resultsB, urlB) = try RunResults.load(path: b, role: "B")
        let comparison = RunComparison(a: resultsA, b: resultsB, metric: metric)
        Console.out(CompareReport.render(comparison, a: .init(path: urlA.path, results: resultsA), b: .init(path: urlB.path, results: resultsB)))
        if let pct = failOnRegression, let message = CompareReport.regressionMessage(comparison, percent: pct) {
            throw .regression(message)
        }
    }
}
