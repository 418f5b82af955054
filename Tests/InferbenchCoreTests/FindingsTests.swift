import Foundation
import Testing

@testable import InferbenchCore

@Suite struct FindingsTests {
    let english = ReportText(.en)

    func run(_ cells: [CellResult]) -> RunResults {
        var cells = cells
        Derived.fillBreakeven(&cells)
        var r = ReportFixture.results()
        r.cells = cells
        r.comparisons = Derived.comparisons(cells)
        return r
    }

    func series(_ cells: [(batch: Int, throughput: Double)]) -> [CellResult] {
        cells.map { ReportFixture.cell("mlp", .eager, batch: $0.batch, p50: Double($0.batch), half: 0.01, throughput: $0.throughput) }
    }

    @Test func bestBatchIsTheHighestThroughputAndTheKneeTheSmallestWithin5Percent() throws {
        let findings = Findings(run(series([(1, 100), (2, 191), (4, 200), (8, 180)])))
        let s = try #require(findings.batchScaling.first)
        #expect(findings.batchScaling.count == 1)
        #expect(s.bestBatch == 4 && s.bestThroughput == 200)
        #expect(s.knee == 2 && s.kneeThroughput == 191)
        #expect(
            FindingsText(findings, english).scaling(s)
                == "mlp, eager/fp32: throughput peaks at batch 4 (200.0 samples/s, p50 4.00 ms); batch 2 already reaches 96% of it (the knee) at p50 2.00 ms.")
    }

    @Test func aKneeBelow95PercentIsNoKnee() throws {
        let findings = Findings(run(series([(1, 100), (2, 189), (4, 200)])))
        let s = try #require(findings.batchScaling.first)
        #expect(s.knee == 4 && s.bestBatch == 4)
        #expect(
            FindingsText(findings, english).scaling(s)
                == "mlp, eager/fp32: throughput rises up to the largest batch measured, 4 (200.0 samples/s, p50 4.00 ms); larger batches may go higher.")
    }

    @Test func aPeakAtTheSmallestBatchSaysLargerBatchesDoNotHelp() throws {
        let findings = Findings(run(series([(1, 300), (2, 200)])))
        let text = FindingsText(findings, english).scaling(try #require(findings.batchScaling.first))
        #expect(text.contains("throughput is highest at the smallest batch measured, 1 (300.0 samples/s, p50 1.00 ms); larger batches do not help."))
    }

    @Test func oneBatchSizeHasNoScalingFinding() {
        #expect(Findings(run(series([(8, 100)]))).batchScaling.isEmpty)
    }

    @Test func slowerThanEagerIsSaidPlainly() throws {
        let findings = Findings(ReportFixture.results())
        let slow = try #require(findings.slower.first)
        #expect(findings.slower.count == 1)
        #expect(slow.series.family == "max-autotune/fp32" && slow.batch == 1)
        #expect(slow.speedup.significant && slow.speedup.ratio < 1)
        #expect(
            FindingsText(findings, english).slower(slow)
                == "resnet50, max-autotune/fp32 at batch 1 is SLOWER than eager/fp32: speedup 0.83× [0.82–0.84] (p50 12.0 ms vs 10.0 ms eager/fp32).")
        #expect(FindingsText(findings, ReportText(.zh)).slower(slow).contains("比 eager/fp32 更慢"))
    }

    @Test func breakEvenPhrasing() {
        let series = Findings.Series(model: "resnet50", environment: "default", family: "default/fp32")
        let words = FindingsText(Findings(RunResults(run: ReportFixture.results().run)), english)
        let pays = Findings.ColdStart(series: series, compileS: [.init(batch: 1, value: 33)], payback: [.init(batch: 1, value: .after(calls: 4100))])
        #expect(words.coldStart(pays) == "resnet50, default/fp32: compile costs 33 s and pays back after 4,100 calls at batch 1.")
        let never = Findings.ColdStart(
            series: series, compileS: [.init(batch: 1, value: 33), .init(batch: 8, value: 2.5)],
            payback: [.init(batch: 1, value: .never), .init(batch: 8, value: .never)])
        #expect(words.coldStart(never) == "resnet50, default/fp32: compile costs 2.50–33 s and never pays back (not faster than eager at batch 1, 8).")
        let mixed = Findings.ColdStart(
            series: series, compileS: [.init(batch: 1, value: 33), .init(batch: 32, value: 33)],
            payback: [.init(batch: 1, value: .after(calls: 4100)), .init(batch: 32, value: .never)])
        #expect(
            words.coldStart(mixed)
                == "resnet50, default/fp32: compile costs 33 s and pays back after 4,100 calls at batch 1; it never pays back at batch 32 (not faster than eager)."
        )
    }

    @Test func coldStartComesFromTheCells() throws {
        let findings = Findings(ReportFixture.results())
        let resnet = try #require(findings.coldStarts.first { $0.series.model == "resnet50" && $0.series.family == "default/fp32" })
        #expect(resnet.compileS.map(\.value) == [33, 31, 30])
        #expect(resnet.payback.map(\.value) == [.after(calls: 5500), .after(calls: 1550), .after(calls: 406)])
        let autotune = try #require(findings.coldStarts.first { $0.series.family == "max-autotune/fp32" })
        #expect(autotune.payback.map(\.value) == [.never])
    }

    @Test func aBatchSizeWithABusyHostCellGetsNoWinner() throws {
        var results = ReportFixture.results()
        let i = try #require(results.cells.firstIndex { $0.status == .ok && $0.variant.compile == .eager && $0.variant.batchSize == 1 })
        let (model, batch) = (results.cells[i].model, results.cells[i].variant.batchSize)
        results.cells[i].warnings.append(CellWarning(kind: .hostBusy, message: "other processes kept about 0.8 of 2 CPUs busy"))
        let findings = Findings(results)
        #expect(!findings.best.contains { $0.model == model && $0.batch == batch }, "the busy eager cell may be the real winner's baseline")
        #expect(findings.best.contains { $0.model == model && $0.batch != batch })
        #expect(findings.busyCells == 1)
        #expect(FindingsText(findings, english).conclusion().contains("1 cell(s) were measured while other processes kept the host busy"))
    }

    @Test func aWarningHeadingCountsCellsOfModelsWithAColonInTheirName() throws {
        var results = ReportFixture.results()
        let bert = results.cells.indices.filter { results.cells[$0].model.contains(":") && results.cells[$0].status == .ok }
        try #require(bert.count >= 2)
        for i in bert.prefix(2) { results.cells[i].warnings.append(CellWarning(kind: .late, message: "late")) }
        let group = try #require(FindingsText(Findings(results), english).warningGroups().first { $0.kind == "late" })
        #expect(group.heading.hasSuffix("(2 cells)"), "\(group.heading)")
    }

    @Test func bestVariantPerBatchWithItsInterval() {
        let findings = Findings(ReportFixture.results())
        let best = findings.best.map { "\($0.model) bs\($0.batch): \($0.family)" }
        #expect(best == ["resnet50 bs1: default/fp32", "resnet50 bs8: default/fp32", "resnet50 bs32: default/fp32", "bert-base:seq=128 bs1: default/fp32"])
        #expect(findings.best[0].speedup?.significant == true)
        #expect(findings.best[3].speedup?.significant == false)
        #expect(findings.best[0].reference == "eager/fp32")
    }

    @Test func warningsCoverFailuresNoiseAccuracyGraphBreaksAndRecompiles() {
        let kinds = Findings(ReportFixture.results()).warnings.map { w -> String in
            switch w.kind {
            case .failed(let kind, _, _): return "failed:\(kind)"
            case .cell(let kind, _): return "cell:\(kind)"
            case .graphBreaks(let n, _): return "graph_breaks:\(n)"
            case .recompiles(let n): return "recompiles:\(n)"
            case .accuracy: return "accuracy"
            }
        }
        #expect(kinds == ["failed:oom", "cell:outliers", "accuracy", "graph_breaks:2", "recompiles:1"])
    }

    @Test func throughputThatDisagreesWithLatencyIsExplained() throws {
        var results = ReportFixture.results()
        let i = try #require(results.cells.firstIndex { $0.model == "resnet50" && $0.variant.compile == .eager && $0.variant.batchSize == 1 })
        let implied = 1000 / results.cells[i].latencyMS!.p50
        results.cells[i].throughputSource = "back_to_back"
        results.cells[i].throughputPerS = implied * 1.5
        results.cells[i].throughputCI95 = [implied * 1.45, implied * 1.55]
        let gaps = Findings(results).throughputGaps
        #expect(gaps.count == 1 && gaps[0].batch == 1)
        let md = MarkdownReport.render(results)
        #expect(md.contains("### Throughput vs latency"))
        #expect(md.contains("is 1.50× batch ÷ p50") && md.contains("launch-bound"), "\(md)")
        // Within 10%, or inside the intervals: nothing to explain.
        results.cells[i].throughputPerS = implied * 1.05
        results.cells[i].throughputCI95 = [implied * 1.02, implied * 1.08]
        #expect(Findings(results).throughputGaps.isEmpty)
    }

    @Test func memoryOverheadPrefersGPUFigures() throws {
        let findings = Findings(ReportFixture.results())
        let resnet = try #require(findings.memory.first { $0.series.model == "resnet50" && $0.series.family == "default/fp32" })
        #expect(resnet.gpu && resnet.reserved, "reserved sizes a GPU (CUDA-graph pools show there)")
        #expect(resnet.figures.map { $0.value.variantMB - $0.value.eagerMB } == [36, 24, 120])
        let bert = try #require(findings.memory.first { $0.series.model == "bert-base:seq=128" })
        #expect(!bert.gpu)
    }

    @Test func conclusionWhenNothingWins() {
        let cells = [
            ReportFixture.cell("mlp", .eager, batch: 1, p50: 1, half: 0.01, throughput: 1000),
            ReportFixture.cell("mlp", .default, batch: 1, p50: 2, half: 0.01, throughput: 500, compileS: 10),
        ]
        let text = FindingsText(Findings(run(cells)), english).conclusion()
        #expect(text.hasPrefix("For mlp, nothing is significantly faster than eager/fp32 at any batch size measured: keep eager/fp32."))
        #expect(text.contains("Do not deploy the 1 compiled configuration(s) that are slower than eager (see Findings)."))
        #expect(text.hasSuffix("No measurement warnings were raised."))
    }
}
