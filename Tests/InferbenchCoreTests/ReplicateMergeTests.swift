import Foundation
import Testing

@testable import InferbenchCore

/// One process's cell: `chunks` chunks of `size` samples around `medianMS`, in rounds 1…chunks.
func replicaCell(
    _ spec: CellSpec, replicate: Int, medianMS: Double, chunks: Int = 8, size: Int = 50, seed: UInt64 = 1, group: String = "0"
) -> CellResult {
    var rng = SeededGenerator(seed: seed &+ UInt64(replicate))
    var m = CellMeasurement(perIteration: medianMS / 1000)
    for round in 1...chunks {
        let values = (0..<size).map { _ in Int64(medianMS * 1e6 * exp(0.02 * rng.normal())) }
        m.add(LatencyChunk(deviceNS: nil, hostNS: values, clock: .perfCounter), seconds: 0.1, rule: StoppingRule(), repeatStart: 0, round: round)
    }
    m.throughputRates = (0..<5).map { _ in 1000 / medianMS * exp(0.01 * rng.normal()) }
    var cell = CellResult(spec: spec, status: .ok)
    cell.latencyMS = m.samples.summary()
    cell.samplesNS = m.samples.values
    let runner = BenchmarkRunner(plan: Plan(models: [spec.model]), environments: [])
    cell.measurement = runner.measurementInfo(m, pid: Int32(1000 + replicate))
    cell.measurement?.interleaveGroup = group
    cell.measurement?.processes?[0].replicate = replicate
    return cell
}

@Suite struct ReplicateMergeTests {
    let spec = CellSpec(model: ModelSpec(name: "synthetic"), environment: "default", variant: Variant(compile: .eager, precision: .fp32, batchSize: 1))

    @Test func eachProcessGetsTheHostAndWorkerCPUOfItsOwnChunks() throws {
        var cell = ReplicateMerge.merge((1...2).map { ($0, replicaCell(spec, replicate: $0, medianMS: 4)) }, rule: StoppingRule())
        // Process 1's eight chunks in [0, 8) s on a quiet host, process 2's in [10, 18) s on a busy one.
        let quiet: [(Double, Double)] = (0..<8).map { i in (Double(i), Double(i) + 0.5) }
        let busy: [(Double, Double)] = (0..<8).map { i in (10 + Double(i), 10.5 + Double(i)) }
        let windows = quiet + busy
        let host: [HostSample] = stride(from: 0.0, to: 18, by: 0.1).map { (t: Double) -> HostSample in
            t < 9 ? HostSample(t: t, cpuUtil: 10, processCPUUtil: 100) : HostSample(t: t, cpuUtil: 80, processCPUUtil: 40)
        }
        BenchmarkRunner.fillProcessCPU(&cell, Timeline(interval: 0.1, gpu: [], host: host), windows: windows)
        let states = try #require(cell.measurement?.processes?.map(\.state))
        #expect(states.map { $0?.hostCPUUtil } == [10, 80] && states.map { $0?.workerCPUUtil } == [100, 40])
        // Windows that do not match the processes' chunks are not guessed at.
        var other = ReplicateMerge.merge((1...2).map { ($0, replicaCell(spec, replicate: $0, medianMS: 4)) }, rule: StoppingRule())
        BenchmarkRunner.fillProcessCPU(&other, Timeline(interval: 0.1, gpu: [], host: host), windows: Array(windows.prefix(5)))
        #expect(other.measurement?.processes?.allSatisfy { $0.state?.hostCPUUtil == nil } == true)
    }

    @Test func agreeingProcessesGiveANarrowIntervalAndNoWarning() {
        let cell = ReplicateMerge.merge((1...3).map { ($0, replicaCell(spec, replicate: $0, medianMS: 4)) }, rule: StoppingRule())
        #expect(cell.status == .ok)
        #expect(cell.measurement?.processes?.count == 3)
        #expect(cell.measurement?.intervalMethod == .clusterBootstrap)
        #expect(cell.samplesNS?.count == 3 * 8 * 50)
        #expect(cell.latencyMS!.relativeMedianHalfWidth < 0.02)
        #expect(!cell.warnings.contains { $0.kind == .processOutlier })
        #expect(cell.throughputSource == "back_to_back")
        #expect(abs(cell.throughputPerS! - 250) < 10)
    }

    @Test func aSlowProcessIsNamedAndWidensTheInterval() {
        let replicas = [(1, 4.0), (2, 8.0), (3, 4.0)].map { ($0.0, replicaCell(spec, replicate: $0.0, medianMS: $0.1)) }
        let cell = ReplicateMerge.merge(replicas, rule: StoppingRule())
        let warning = cell.warnings.first { $0.kind == .processOutlier }
        #expect(warning?.message.hasPrefix("process 2 of 3 ran 2.0") == true, "\(String(describing: warning))")
        #expect(warning?.message.contains("for its whole life (all 8 chunks)") == true)
        #expect(!cell.warnings.contains { $0.kind == .bimodal })
        #expect(cell.latencyMS!.ci95.p50.upper > 5, "the interval reaches toward the slow process")
        #expect(cell.measurement!.processes![1].ratioToOthers! > 1.9)
    }

    @Test func processesInTwoStatesAreSaidToBeSoNotBimodal() {
        let medians = [4.0, 6.0, 4.0, 6.0, 4.0]
        let cell = ReplicateMerge.merge(
            medians.enumerated().map { ($0.offset + 1, replicaCell(spec, replicate: $0.offset + 1, medianMS: $0.element)) }, rule: StoppingRule())
        #expect(!cell.warnings.contains { $0.kind == .bimodal })
        let split = cell.warnings.first { $0.message.hasPrefix("processes landed in two states") }?.message
        #expect(split?.contains("processes 1, 3, 5 near 4.0") == true && split?.contains("processes 2, 4 near 6.0") == true, "\(cell.warnings)")
        #expect(!cell.warnings.contains { $0.kind == .outliers }, "40% 'outliers' would be the slow state, not outliers")
    }

    @Test func aFailedProcessLeavesTheOthersStanding() {
        var failed = CellResult(spec: spec, status: .failed)
        failed.error = CellError(kind: .workerCrash, message: "the worker died")
        let cell = ReplicateMerge.merge(
            [(1, replicaCell(spec, replicate: 1, medianMS: 4)), (2, failed), (3, replicaCell(spec, replicate: 3, medianMS: 4))], rule: StoppingRule())
        #expect(cell.status == .ok)
        #expect(cell.warnings.first { $0.kind == .processFailed }?.message.hasPrefix("rests on 2 of 3 processes; process 2: worker_crash") == true)
        #expect(cell.measurement?.processes?.map(\.status) == [.ok, .failed, .ok])
        let none = ReplicateMerge.merge([(1, failed), (2, failed)], rule: StoppingRule())
        #expect(none.status == .failed)
        #expect(none.measurement?.processes?.count == 2)
    }

    @Test func speedupsArePairedByProcessAndRound() {
        let eager = spec
        var compiled = spec
        compiled.variant.compile = .default
        var cells = [
            ReplicateMerge.merge((1...2).map { ($0, replicaCell(eager, replicate: $0, medianMS: 5)) }, rule: StoppingRule()),
            ReplicateMerge.merge((1...2).map { ($0, replicaCell(compiled, replicate: $0, medianMS: 4, seed: 9)) }, rule: StoppingRule()),
        ]
        let paired = Derived.comparisons(cells)
        #expect(paired.count == 1)
        #expect(paired[0].paired == true)
        #expect(abs(paired[0].ratio - 1.25) < 0.02)
        #expect(paired[0].ci95.lower < paired[0].ratio && paired[0].ratio < paired[0].ci95.upper)
        // Measured apart (another interleave group): resampled apart, and said so.
        cells[1].measurement?.interleaveGroup = "7"
        #expect(Derived.comparisons(cells)[0].paired == false)
    }
}
