import Foundation
import Testing

@testable import InferbenchCore

@Suite struct RunComparisonTests {
    /// A run of mlp at batch 1 and 8, eager and default, every latency scaled by `factor`.
    func run(factor: Double = 1, environment: String = "default", half: Double = 0.01, extra: [CellResult] = []) -> RunResults {
        var results = RunResults(run: ReportFixture.results().run)
        for (compile, batch, p50) in [(CompileMode.eager, 1, 10.0), (.default, 1, 5.0), (.eager, 8, 40.0)] {
            let v = p50 * factor
            results.cells.append(
                ReportFixture.cell("mlp", compile, batch: batch, p50: v, half: v * half, throughput: Double(batch) * 1000 / v, environment: environment))
        }
        results.cells += extra
        return results
    }

    @Test func ratioIsBOverAWithAnInterval() throws {
        let c = RunComparison(a: run(), b: run(factor: 1.2))
        #expect(c.matches.count == 3)
        let m = try #require(c.matches.first)
        #expect(abs(m.ratio - 1.2) < 1e-12)
        // Each side ±1%: se(log) = log(1.01/0.99)/3.92 per side.
        let se = (2 * pow(log(1.01 / 0.99) / 3.92, 2)).squareRoot()
        #expect(abs(m.lower - 1.2 * exp(-1.96 * se)) < 1e-9 && abs(m.upper - 1.2 * exp(1.96 * se)) < 1e-9)
        #expect(c.matches.allSatisfy { $0.verdict == .slower })
        #expect(c.onlyInA.isEmpty && c.onlyInB.isEmpty && c.notComparable.isEmpty)
    }

    /// A gate that matched nothing checked nothing: it says which cells were unmatched and
    /// that the models differ only in their parameters; any match makes it nil.
    @Test func nothingComparedIsSaidWithTheUnmatchedCells() throws {
        var b = run()
        for i in b.cells.indices { b.cells[i].model = "mlp:layers=4" }
        let c = RunComparison(a: run(), b: b)
        #expect(c.matches.isEmpty)
        let message = try #require(CompareReport.nothingComparedMessage(c))
        #expect(message.contains("only in A: mlp eager/fp32/bs1"))
        #expect(message.contains("only in B: mlp:layers=4 eager/fp32/bs1"))
        #expect(message.contains("the same models with different parameters"))
        #expect(CompareReport.nothingComparedMessage(RunComparison(a: run(), b: run(factor: 1.1))) == nil)
    }

    @Test func overlappingIntervalsAreNoSignificantDifference() {
        let c = RunComparison(a: run(half: 0.05), b: run(factor: 1.03, half: 0.05))
        #expect(c.matches.allSatisfy { $0.verdict == .noSignificantDifference })
        #expect(c.regressions(beyond: 0).isEmpty)
        #expect(RunComparison(a: run(), b: run(factor: 0.8)).matches.allSatisfy { $0.verdict == .faster })
    }

    @Test func regressionNeedsBothTheThresholdAndSignificance() throws {
        let c = RunComparison(a: run(), b: run(factor: 1.2))
        #expect(c.regressions(beyond: 10).count == 3)
        #expect(c.regressions(beyond: 25).isEmpty)
        let message = try #require(CompareReport.regressionMessage(c, percent: 10))
        #expect(message.hasPrefix("regression: mlp "))
        #expect(message.contains("is 20.0% slower in B (p50 B/A 1.20× [") && message.contains("beyond --fail-on-regression 10%"))
        #expect(message.contains("2 more cell(s) regressed too"))
    }

    @Test func throughputRegressesTheOtherWay() {
        let slower = RunComparison(a: run(), b: run(factor: 1.25), metric: .throughput)
        #expect(slower.matches.allSatisfy { $0.ratio < 1 && $0.verdict == .slower })
        #expect(slower.regressions(beyond: 15).count == 3)
        #expect(slower.regressions(beyond: 25).isEmpty)
        #expect(abs(slower.slowdownPercent(slower.matches[0]) - 20) < 1e-9)
        #expect(RunComparison(a: run(), b: run(factor: 0.8), metric: .throughput).matches.allSatisfy { $0.verdict == .faster })
    }

    @Test func worstOffenderComesFirst() throws {
        var b = run(factor: 1.2)
        b.cells[1].latencyMS!.p50 = 5 * 1.5
        b.cells[1].latencyMS!.ci95.p50 = [7.45, 7.55]
        let worst = try #require(RunComparison(a: run(), b: b).regressions(beyond: 10).first)
        #expect(worst.b.variant.compile == .default)
        #expect(abs(worst.ratio - 1.5) < 1e-12)
    }

    @Test func differentEnvironmentNamesStillMatch() {
        let c = RunComparison(a: run(environment: "torch25"), b: run(environment: "torch26"))
        #expect(!c.byEnvironment)
        #expect(c.matches.count == 3)
        #expect(CompareReport.render(c, a: .init(path: "a.json", results: run()), b: .init(path: "b.json", results: run())).contains("torch25 -> torch26"))
    }

    @Test func severalEnvironmentsOnBothSidesMatchByEnvironment() {
        let a = run(environment: "torch25", extra: run(environment: "torch26").cells)
        let b = run(factor: 1.2, environment: "torch25", extra: run(environment: "torch26").cells)
        let c = RunComparison(a: a, b: b)
        #expect(c.byEnvironment)
        #expect(c.matches.count == 6)
        #expect(c.matches.filter { $0.verdict == .slower }.allSatisfy { $0.a.environment == "torch25" && $0.b.environment == "torch25" })
        #expect(c.matches.filter { $0.verdict == .noSignificantDifference }.count == 3)
    }

    @Test func unmatchedAndFailedCellsAreListedNotCompared() {
        var failed = ReportFixture.cell("mlp", .eager, batch: 8, p50: 40, half: 0.4, throughput: 200)
        failed.status = .failed
        failed.latencyMS = nil
        failed.error = CellError(kind: "oom", message: "out of memory")
        var b = run()
        b.cells[2] = failed
        b.cells.append(ReportFixture.cell("mlp", .eager, batch: 32, p50: 100, half: 1, throughput: 320))
        var a = run()
        a.cells.append(ReportFixture.cell("bert-tiny", .eager, batch: 1, p50: 3, half: 0.03, throughput: 333))
        let c = RunComparison(a: a, b: b)
        #expect(c.matches.count == 2)
        #expect(c.onlyInA.map(\.model) == ["bert-tiny"])
        #expect(c.onlyInB.map(\.variant.batchSize) == [32])
        #expect(c.notComparable.count == 1)
        let text = CompareReport.render(c, a: .init(path: "a.json", results: a), b: .init(path: "b.json", results: b))
        #expect(text.contains("only in A (not compared): bert-tiny eager/fp32/bs1 [default]"))
        #expect(text.contains("only in B (not compared): mlp eager/fp32/bs32 [default]"))
        #expect(text.contains("not comparable: mlp eager/fp32/bs8: A ok, B failed (oom: out of memory)"))
    }

    @Test func p99UsesSamplesForItsIntervalOrClaimsNothing() {
        let withoutSamples = RunComparison(a: run(), b: run(factor: 1.5), metric: .p99)
        #expect(withoutSamples.matches.allSatisfy { $0.verdict == .noSignificantDifference && $0.upper.isInfinite })
        func sampled(_ factor: Double) -> RunResults {
            var r = run(factor: factor)
            for i in r.cells.indices {
                let base = r.cells[i].latencyMS!.p50 * 1e6
                r.cells[i].samplesNS = (0..<1000).map { Int64(base * (1 + Double($0 % 100) / 1000)) }
            }
            return r
        }
        let withSamples = RunComparison(a: sampled(1), b: sampled(1.5), metric: .p99)
        #expect(withSamples.matches.allSatisfy { $0.verdict == .slower })
    }
}
