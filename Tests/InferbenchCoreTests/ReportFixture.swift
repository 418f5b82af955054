import Foundation

@testable import InferbenchCore

/// A fixed run built in code, shaped like a GPU assessment, for the renderer tests.
///
/// resnet50: eager and default at batch 1, 8, 32 (default 2.5×, 2×, ~2× faster; throughput
/// 250 → 400 → 420, so the knee is batch 8), max-autotune at batch 1 significantly slower.
/// bert-base:seq=128: default at batch 1 no different from eager, with graph breaks, a
/// recompile and outputs beyond tolerance; default at batch 8 failed out of memory.
enum ReportFixture {
    static let started = Date(timeIntervalSince1970: 1_764_000_000)

    static func cell(
        _ model: String, _ compile: CompileMode, batch: Int, p50: Double, half: Double, throughput: Double,
        precision: Precision = .fp32, compileS: Double = 0, memory: Double? = nil, environment: String = "default"
    ) -> CellResult {
        let spec = CellSpec(
            model: try! ModelSpec(parsing: model), environment: environment, variant: Variant(compile: compile, precision: precision, batchSize: batch))
        var c = CellResult(spec: spec, status: .ok)
        c.device = "cuda:0"
        let mean = p50 * 1.01
        c.latencyMS = LatencySummary(
            n: 500, mean: mean, stddev: p50 * 0.02, min: p50 * 0.95, p50: p50, p90: p50 * 1.05, p95: p50 * 1.1, p99: p50 * 1.2,
            p999: p50 * 1.5, max: p50 * 1.6, ci95: .init(p50: [p50 - half, p50 + half], mean: [mean - half, mean + half]))
        c.throughputPerS = throughput
        c.throughputCI95 = [throughput * 0.98, throughput * 1.02]
        c.throughputSource = "back_to_back"
        c.coldStart = ColdStart(loadS: 1.5, compileS: compileS, firstCallMS: p50 * 3)
        if compile != .eager { c.compileStats = CompileStats(graphBreaks: 0, recompiles: 0, reasons: []) }
        c.memoryMB = MemoryFigures(peakAllocated: memory, peakReserved: memory.map { $0 * 1.2 }, deviceUsed: nil, workerRSS: 2048)
        c.accuracy = Accuracy(maxAbsErr: compile == .eager ? 0 : 2e-6, maxRelErr: 1e-5, cosine: 1, withinTolerance: true)
        c.measurement = MeasurementInfo(clock: "cuda_event", warmupIterations: 50, warmupStable: true, stopReason: "target_ci_met", measureSeconds: 2)
        return c
    }

    static func results() -> RunResults {
        var cells = [
            cell("resnet50", .eager, batch: 1, p50: 10, half: 0.1, throughput: 99, memory: 100),
            cell("resnet50", .default, batch: 1, p50: 4, half: 0.04, throughput: 250, compileS: 33, memory: 130),
            cell("resnet50", .maxAutotune, batch: 1, p50: 12, half: 0.1, throughput: 83, compileS: 90, memory: 140),
            cell("resnet50", .eager, batch: 8, p50: 40, half: 0.4, throughput: 200, memory: 400),
            cell("resnet50", .default, batch: 8, p50: 20, half: 0.2, throughput: 400, compileS: 31, memory: 420),
            cell("resnet50", .eager, batch: 32, p50: 150, half: 1.5, throughput: 213, memory: 1500),
            cell("resnet50", .default, batch: 32, p50: 76, half: 0.8, throughput: 420, compileS: 30, memory: 1600),
            cell("bert-base:seq=128", .eager, batch: 1, p50: 5, half: 0.2, throughput: 200),
            cell("bert-base:seq=128", .default, batch: 1, p50: 4.95, half: 0.25, throughput: 202, compileS: 41),
        ]
        cells[0].samplesNS = [10_000_000, 10_100_000, 9_900_000]
        cells[8].compileStats = CompileStats(graphBreaks: 2, recompiles: 1, reasons: ["generic_jump"])
        cells[8].accuracy = Accuracy(maxAbsErr: 0.03, maxRelErr: 0.1, cosine: 0.9991, withinTolerance: false)
        cells[8].warnings = [CellWarning(kind: "outliers", message: "3 of 500 iterations are statistical outliers; quiet the machine")]
        var failed = CellResult(
            spec: CellSpec(
                model: try! ModelSpec(parsing: "bert-base:seq=128"), environment: "default", variant: Variant(compile: .default, precision: .fp32, batchSize: 8)
            ),
            status: .failed)
        failed.error = CellError(kind: "oom", message: "CUDA out of memory, tried to allocate 2.00 GiB")
        cells.append(failed)
        Derived.fillBreakeven(&cells)
        let run = RunInfo(
            id: "20251124-160000-abc123", startedAt: started, finishedAt: started.addingTimeInterval(600), status: .complete,
            command: "inferbench run --model resnet50,bert-base:seq=128 --compile eager,default,max-autotune --batch 1,8,32",
            plan: Plan(models: [ModelSpec(name: "resnet50")]),
            host: HostInfo(hostname: "gpu-1", os: "Ubuntu 22.04", cpu: "AMD EPYC 7543", cores: 16, memoryMB: 131072),
            inferbenchVersion: "0.1.0")
        let env = EnvironmentRecord(
            name: "default", python: "/usr/bin/python3", pythonVersion: "3.12.3", torch: "2.6.0", cuda: "12.4", cudnn: "90100",
            triton: "3.2.0", gpus: [.init(name: "NVIDIA A10", driver: "550.54", memoryMB: 24576, powerLimitW: 150)], device: "cuda:0")
        return RunResults(run: run, environments: [env], cells: cells, comparisons: Derived.comparisons(cells))
    }
}
