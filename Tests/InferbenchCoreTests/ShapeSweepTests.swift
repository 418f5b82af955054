import Foundation
import Testing

@testable import InferbenchCore

/// `run --seq … --shapes …`: the length axis of the matrix, its sweeps, its plan-file keys,
/// and the finding that sets a static graph per length against one dynamic graph.
@Suite struct ShapeSweepTests {
    let bert = ModelSpec(name: "bert-base")

    @Test func lengthsExpandTheMatrixAndEagerGetsOneCellPerShape() {
        var plan = Plan(models: [bert], compile: [.eager, .default], batch: [1, 8])
        plan.seq = [64, 128]
        #expect(plan.graphShapes == [.static, .dynamic], "several lengths: both strategies side by side")
        let cells = plan.cells(environment: "a")
        #expect(cells.count == 2 * 2 * 3, "lengths × batches × (eager + default static + default dynamic)")
        #expect(cells.map(\.model.description).prefix(3).allSatisfy { $0 == "bert-base:seq=64" })
        #expect(cells.filter { $0.variant.compile == .eager }.allSatisfy { $0.variant.dynamic == nil })
        #expect(cells.filter { $0.variant.compile == .default }.map(\.variant.dynamic).prefix(2) == [false, true])
        #expect(Set(cells.map(\.id)).count == cells.count)
        #expect(plan.sizedModels.map(\.description) == ["bert-base:seq=64", "bert-base:seq=128"])

        plan.seq = [128]
        #expect(plan.graphShapes == [.auto], "one length: PyTorch's default")
        plan.dynamic = true
        #expect(plan.graphShapes == [.dynamic])
        plan.shapes = [.static]
        #expect(plan.graphShapes == [.static], "--shapes wins over dynamic")
    }

    @Test func seqOverridesTheModelsOwnLength() {
        var plan = Plan(models: [ModelSpec(name: "bert-base", params: ["seq": "512"])], compile: [.eager])
        plan.seq = [32]
        #expect(plan.cells(environment: "a").map(\.model.description) == ["bert-base:seq=32"])
    }

    @Test func oneSweepServesEveryLengthWithAStepPerShape() {
        var plan = Plan(models: [bert], compile: [.eager, .default], batch: [1, 4])
        plan.seq = [32, 64, 128]
        let sweeps = plan.sweeps(plan.cells(environment: "a"))
        #expect(sweeps.count == 1, "one loaded model per lane serves every length")
        #expect(sweeps[0].count == 6, "3 lengths × 2 batch sizes")
        #expect(sweeps[0].map { "\($0[0].model.length!)/\($0[0].variant.batchSize)" } == ["32/1", "32/4", "64/1", "64/4", "128/1", "128/4"])
        for step in sweeps[0] {
            #expect(Set(step.map(Plan.lane(of:))).count == 3 && Set(step.map(\.model)).count == 1)
        }
        plan.batchReuse = false
        #expect(plan.sweeps(plan.cells(environment: "a")).count == 6, "no reuse: a fresh load per shape")
    }

    @Test func badLengthsAreRefusedNamingTheFlag() {
        var plan = Plan(models: [bert])
        plan.seq = [64, 0]
        #expect(throws: InferbenchError.badInput("--seq 0: a sequence length is a whole number from 1 to 65536, e.g. --seq 64,128,256,512")) {
            try plan.validate()
        }
        plan.seq = [64, 64]
        #expect(throws: InferbenchError.badInput("--seq: each length once, e.g. --seq 64,128,256,512")) { try plan.validate() }
    }

    @Test func planFileReadsAndWritesSeqAndShapes() throws {
        let file = try PlanFile.parse("models: [bert-tiny]\nseq: [16, 64]\nshapes: [static, dynamic]\ncompile: [default]\n", file: "p.yaml")
        #expect(file.plan.seq == [16, 64] && file.plan.shapes == [.static, .dynamic])
        let again = try PlanFile.parse(PlanFile.render(file.plan), file: "again.yaml")
        #expect(again.plan == file.plan)
        #expect(throws: InferbenchError.self) { try PlanFile.parse("models: [bert-tiny]\nshapes: [stattic]\n", file: "p.yaml") }
        #expect(throws: InferbenchError.self) { try PlanFile.parse("models: [bert-tiny]\nseq: [16, x]\n", file: "p.yaml") }
    }

    // MARK: - the finding

    func cell(_ length: Int, _ shapes: GraphShapes?, p50: Double, half: Double, compileS: Double) -> CellResult {
        var c = ReportFixture.cell("bert-base:seq=\(length)", shapes == nil ? .eager : .default, batch: 1, p50: p50, half: half, throughput: 1000 / p50)
        c.variant.dynamic = shapes?.dynamic
        c.id = "\(c.model)|default|\(c.variant.label)"
        c.coldStart = ColdStart(loadS: 1, compileS: compileS, firstCallMS: p50)
        return c
    }

    func findings(_ cells: [CellResult]) -> Findings {
        var results = RunResults(run: ReportFixture.results().run)
        results.cells = cells
        return Findings(results)
    }

    @Test func staticThatIsFasterPaysBackItsRecompilesAfterTheArithmeticsCalls() throws {
        // static: 20 s + 20 s of compiles, 1.0 ms a call; dynamic: 25 s once, 1.5 ms a call.
        let f = findings([
            cell(64, nil, p50: 3, half: 0.01, compileS: 0), cell(64, .static, p50: 1.0, half: 0.01, compileS: 20),
            cell(64, .dynamic, p50: 1.5, half: 0.01, compileS: 25),
            cell(128, nil, p50: 4, half: 0.01, compileS: 0), cell(128, .static, p50: 1.0, half: 0.01, compileS: 20),
            cell(128, .dynamic, p50: 1.5, half: 0.01, compileS: 0),
        ])
        let s = try #require(f.shapeStrategies.first)
        #expect(f.shapeStrategies.count == 1 && s.model == "bert-base" && s.family == "default/fp32" && s.batch == 1)
        #expect(s.lengths.map(\.length) == [64, 128] && s.staticCompileS == 40 && s.dynamicCompileS == 25)
        // 15 s extra over a 0.5 ms saving per call: 30,000 calls
        guard case .after(let calls)? = s.payback else { Issue.record("expected a payback, got \(String(describing: s.payback))"); return }
        #expect(abs(calls - 30_000) < 1)
        let words = FindingsText(f, ReportText(.en)).shapeStrategies(s)
        #expect(words.hasPrefix("bert-base, default/fp32 at batch 1: static graphs compile 40 s over 2 lengths, one dynamic graph 25 s;"), "\(words)")
        #expect(words.contains("pays back after 30,000 calls"), "\(words)")
        #expect(FindingsText(f, ReportText(.zh)).shapeStrategies(s).contains("30,000 次调用后回本"))
    }

    @Test func staticThatIsNoFasterNeverPaysBack() throws {
        let f = findings([
            cell(64, .static, p50: 1.0, half: 0.2, compileS: 20), cell(64, .dynamic, p50: 1.02, half: 0.2, compileS: 25),
            cell(128, .static, p50: 2.0, half: 0.3, compileS: 20), cell(128, .dynamic, p50: 2.01, half: 0.3, compileS: 0),
        ])
        let s = try #require(f.shapeStrategies.first)
        #expect(s.payback == .never)
        #expect(FindingsText(f, ReportText(.en)).shapeStrategies(s).contains("no length shows a measurable difference"))
    }

    @Test func oneLengthOrOneStrategyIsNoFinding() {
        #expect(
            findings([cell(64, .static, p50: 1, half: 0.01, compileS: 20), cell(64, .dynamic, p50: 1.5, half: 0.01, compileS: 25)]).shapeStrategies.isEmpty)
        #expect(
            findings([cell(64, .static, p50: 1, half: 0.01, compileS: 20), cell(128, .static, p50: 1.5, half: 0.01, compileS: 25)]).shapeStrategies.isEmpty)
    }

    /// A length that reused its lane's dynamic graph paid 0.01 s here, but a deployment at that
    /// length alone pays the lane's first compile: the cold-start finding says so.
    @Test func aReusedLengthIsChargedItsLanesFreshCompile() throws {
        var cells = [
            cell(64, nil, p50: 3, half: 0.01, compileS: 0), cell(64, .dynamic, p50: 1.5, half: 0.01, compileS: 25),
            cell(128, nil, p50: 4, half: 0.01, compileS: 0), cell(128, .dynamic, p50: 1.5, half: 0.01, compileS: 0.01),
        ]
        cells[3].coldStart?.batchReuse = .reused
        #expect(Derived.laneFirstCompile(of: cells[3], in: cells) == 25)
        Derived.fillBreakeven(&cells)
        let standalone = try #require(cells[3].coldStart?.breakevenStandalone)
        // 25 s over 4 ms × (1 − 1.5/4) saved per call
        #expect(abs(standalone - (25 / (0.004 * (1 - 1.5 / 4))).rounded(.up)) < 1)
        let cold = try #require(findings(cells).coldStarts.first { $0.series.model == "bert-base:seq=128" })
        #expect(cold.compileS.map(\.value) == [25])
        #expect(cold.payback.first?.value == .after(calls: standalone))
    }
}
