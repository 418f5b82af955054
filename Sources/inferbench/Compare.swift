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
            by more than PCT percent; cells found in one run only are listed, not errors, but a gate that matched no \
            cell at all exits 7 (it checked nothing).
            """)

    @Argument(help: "The baseline: a results.json, a run folder, or a stored run (id, unique id prefix, or latest).")
    var a: String

    @Argument(help: "The candidate: a results.json, a run folder, or a stored run (id, unique id prefix, or latest).")
    var b: String

    @Option(name: .long, help: "Fail (exit 3) when a cell is significantly slower in B by more than PCT percent.")
    var failOnRegression: Double?

    @Option(name: .long, help: "p50 (default), mean, p99 or throughput; runs only (two load tests compare SLA capacity and offline throughput).")
    var metric: CompareMetric?

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if let pct = failOnRegression, !(pct >= 0 && pct.isFinite) {
            throw ValidationError("--fail-on-regression \(pct): give a percentage ≥ 0, e.g. 5 for 5%")
        }
    }

    func run() async throws {
        do { try execute() } catch { throw failure(error) }
    }

    func execute() throws(InferbenchError) {
        let sideA = try ResultsStore.resolve(a, storePath: storeOptions.path, role: "A")
        let sideB = try ResultsStore.resolve(b, storePath: storeOptions.path, role: "B")
        switch (sideA.results.kind, sideB.results.kind) {
        case (.load, .load):
            try compareLoads(sideA, sideB)
            return
        case (.load, .run), (.run, .load):
            let kind = { (r: RunResults) in r.kind == .load ? "a load test" : "a benchmark run" }
            throw .badInput("compare: A is \(kind(sideA.results)) and B \(kind(sideB.results)); compare two runs or two load tests")
        case (.run, .run):
            break
        }
        let comparison = RunComparison(a: sideA.results, b: sideB.results, metric: metric ?? .p50)
        Console.out(CompareReport.render(comparison, a: .init(path: sideA.label, results: sideA.results), b: .init(path: sideB.label, results: sideB.results)))
        if failOnRegression != nil, let message = CompareReport.nothingComparedMessage(comparison) { throw .nothingCompared(message) }
        if let pct = failOnRegression, let message = CompareReport.regressionMessage(comparison, percent: pct) {
            throw .regression(message)
        }
    }

    /// Two load tests: capacity under the SLA and offline throughput (`--metric` is for runs).
    func compareLoads(_ sideA: ResolvedResults, _ sideB: ResolvedResults) throws(InferbenchError) {
        // Said, not refused: a gate script may pass one --metric to every compare it makes.
        if let metric { Console.note("note: --metric \(metric.rawValue) is for benchmark runs; two load tests compare SLA capacity and offline throughput") }
        let comparison = LoadComparison(a: sideA.results, b: sideB.results)
        Console.out(CompareReport.render(comparison, a: .init(path: sideA.label, results: sideA.results), b: .init(path: sideB.label, results: sideB.results)))
        if failOnRegression != nil, comparison.capacity == nil {
            throw .nothingCompared("the two load tests do not both have a capacity (--find-max-qps): --fail-on-regression checked nothing")
        }
        if let pct = failOnRegression, let message = CompareReport.regressionMessage(comparison, percent: pct) { throw .regression(message) }
    }
}
