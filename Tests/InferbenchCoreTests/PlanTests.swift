import Foundation
import Testing

@testable import InferbenchCore

@Suite struct PlanTests {
    @Test func parsesZooNamesWithParameters() throws {
        let spec = try ModelSpec(parsing: "bert-base:seq=512")
        #expect(spec.name == "bert-base")
        #expect(spec.params == ["seq": "512"])
        #expect(spec.description == "bert-base:seq=512")
        let synth = try ModelSpec(parsing: "synthetic:dist=lognormal,median_ms=5,sigma=0.3")
        #expect(synth.params.count == 3)
        let user = try ModelSpec(parsing: "models/my.py:build")
        #expect(user.isUserModel && user.params.isEmpty)
    }

    @Test func parsesPt2PathsWithAndWithoutParameters() throws {
        let plain = try ModelSpec(parsing: "out/model.pt2")
        #expect(plain.name == "out/model.pt2" && plain.params.isEmpty && plain.isUserModel)
        let shaped = try ModelSpec(parsing: "out/model.pt2:shape=1x3x224x224,dtype=float16")
        #expect(shaped.name == "out/model.pt2" && shaped.isUserModel)
        #expect(shaped.params == ["shape": "1x3x224x224", "dtype": "float16"])
        #expect(shaped.description == "out/model.pt2:dtype=float16,shape=1x3x224x224")
        #expect(try ModelSpec(parsing: shaped.description) == shaped)
        #expect(ModelSpec.splitList("mlp,m.pt2:shape=1x8,dtype=int64,sd-tiny") == ["mlp", "m.pt2:shape=1x8,dtype=int64", "sd-tiny"])
        #expect(throws: InferbenchError.self) { try ModelSpec(parsing: "m.pt2:shape") }
    }

    @Test func splitsModelListsWithoutBreakingParameters() {
        #expect(ModelSpec.splitList("mlp,synthetic:dist=normal,median_ms=2,bert-tiny") == ["mlp", "synthetic:dist=normal,median_ms=2", "bert-tiny"])
        #expect(ModelSpec.splitList("resnet50") == ["resnet50"])
        #expect(ModelSpec.splitList("synthetic:median_ms=2,scale=fp16:0.5+default:0.8,mlp") == ["synthetic:median_ms=2,scale=fp16:0.5+default:0.8", "mlp"])
    }

    @Test func rejectsMalformedParameters() {
        #expect(throws: InferbenchError.self) { try ModelSpec(parsing: "bert-base:seq") }
        #expect(throws: InferbenchError.self) { try ModelSpec(parsing: "  ") }
    }

    @Test func suggestsNearNames() {
        let known = ["mlp", "resnet18", "resnet50", "bert-base", "bert-tiny", "synthetic"]
        #expect(suggestions(for: "resnet-50", among: known).first == "resnet50")
        #expect(suggestions(for: "bert", among: known).contains("bert-base"))
        #expect(suggestions(for: "zzzzzzzzzzzz", among: known).isEmpty)
    }

    @Test func expandsTheMatrixWithComparedCellsAdjacent() {
        let plan = Plan(models: [ModelSpec(name: "mlp")], compile: [.eager, .default], precision: [.fp32, .fp16], batch: [1, 8])
        let cells = plan.cells(environment: "default")
        #expect(cells.count == 8)
        #expect(cells[0].variant.compile == .eager && cells[1].variant.compile == .default)
        #expect(cells[0].variant.batchSize == cells[1].variant.batchSize)
        #expect(Set(cells.map(\.id)).count == 8)
    }

    @Test func sweepsKeepLanesAcrossBatchSizes() {
        var plan = Plan(models: [ModelSpec(name: "mlp")], compile: [.eager, .default], precision: [.fp32, .fp16], batch: [1, 8, 4])
        let cells = plan.cells(environment: "a") + plan.cells(environment: "b")
        let sweeps = plan.sweeps(cells)
        #expect(sweeps.count == 2, "one sweep per precision, both environments in it")
        #expect(sweeps[0].map { $0[0].variant.batchSize } == [1, 8, 4], "steps in plan order")
        for step in sweeps[0] {
            #expect(step.count == 4)
            #expect(Set(step.map(Plan.lane(of:))).count == 4, "one cell per lane")
            #expect(Set(step.map(\.variant.batchSize)).count == 1)
        }
        #expect(sweeps.flatMap { $0.flatMap { $0 } }.count == cells.count)
        plan.batchReuse = false
        #expect(plan.sweeps(cells).count == 6 && plan.sweeps(cells).allSatisfy { $0.count == 1 })
        plan.batchReuse = true
        plan.interleave = false
        let alone = plan.sweeps(cells)
        #expect(alone.count == 8 && alone.allSatisfy { $0.count == 3 && $0.allSatisfy { $0.count == 1 } })
    }

    @Test func planFileTurnsBatchReuseOff() throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "reuse-\(UUID().uuidString).yaml")
        try "models: [mlp]\nbatch_reuse: false\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try PlanFile.load(path: file.path).plan.batchReuse == false)
    }

    @Test func validationNamesTheFlag() {
        var plan = Plan(models: [ModelSpec(name: "mlp")], batch: [0])
        #expect(throws: InferbenchError.badInput("--batch 0: a batch size must be between 1 and 65536")) { try plan.validate() }
        plan.batch = [1]
        plan.stopping.targetCI = 2
        #expect(throws: InferbenchError.self) { try plan.validate() }
        #expect(throws: InferbenchError.self) { try Plan(models: []).validate() }
    }

    @Test func deviceChoices() throws {
        #expect(try DeviceChoice(parsing: "cuda:1") == .cuda(1))
        #expect(try DeviceChoice(parsing: "AUTO") == .auto)
        #expect(throws: InferbenchError.self) { try DeviceChoice(parsing: "tpu") }
    }

    @Test func defaultPlanFitsTheHardware() {
        #expect(DefaultPlans.forHardware(hasCUDA: true).models.map(\.name).contains("resnet50"))
        #expect(!DefaultPlans.forHardware(hasCUDA: false).models.map(\.name).contains("resnet50"))
    }
}
