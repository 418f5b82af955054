import Testing

@testable import InferbenchCore

@Suite struct PlanFileTests {
    @Test func readsEveryKey() throws {
        let file = try PlanFile.parse(
            """
            models: [resnet50, "bert-base:seq=128"]
            compile: [eager, default, reduce-overhead]
            precision: fp32,fp16
            batch: [1, 4, 8]
            device: cuda:0
            channels_last: true
            max_time: 5
            target_ci: 0.02
            repeats: 2
            environments:
              torch24: /opt/py24/bin/python
              torch26: /opt/py26/bin/python
            """, file: "plan.yaml")
        #expect(file.plan.models.map(\.description) == ["resnet50", "bert-base:seq=128"])
        #expect(file.plan.compile == [.eager, .default, .reduceOverhead])
        #expect(file.plan.precision == [.fp32, .fp16])
        #expect(file.plan.batch == [1, 4, 8])
        #expect(file.plan.device == .cuda(0))
        #expect(file.plan.channelsLast)
        #expect(file.plan.stopping.maxTime == 5 && file.plan.stopping.targetCI == 0.02)
        #expect(file.plan.repeats == 2)
        #expect(file.environments.map(\.name) == ["torch24", "torch26"])
    }

    @Test func errorsNameTheFileLineAndField() {
        #expect(
            throws: InferbenchError.badInput(
                "plan.yaml:2: compile: `defualt` is not one of eager, default, reduce-overhead, max-autotune, max-autotune-no-cudagraphs, aot-inductor, tensorrt; did you mean default?"
            )
        ) {
            try PlanFile.parse("models: [mlp]\ncompile: [eager, defualt]\n", file: "plan.yaml")
        }
        #expect(throws: InferbenchError.self) { try PlanFile.parse("models: [mlp]\nbatch: [1, zero]\n", file: "p.yaml") }
        do {
            _ = try PlanFile.parse("models: [mlp]\nbatchs: [1]\n", file: "p.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("p.yaml:2: batchs: unknown key; did you mean batch?"))
        }
        #expect(throws: InferbenchError.self) { try PlanFile.parse("- just a list", file: "p.yaml") }
        #expect(throws: InferbenchError.self) { try PlanFile.parse("models: [mlp]\nmax_time: soon\n", file: "p.yaml") }
    }
}
