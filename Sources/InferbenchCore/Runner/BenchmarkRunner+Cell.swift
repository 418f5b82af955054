import Foundation

extension BenchmarkRunner {
    /// Runs one cell. Returns the result and whether the worker can be used again.
    func runCell(_ spec: CellSpec, index: Int, count: Int, on prepared: Prepared) async -> (CellResult, Bool) {
        let worker = prepared.worker
        var cell = CellResult(spec: spec, status: .ok)
        cell.device = prepared.device
        let cellLabel = label(spec)
        func report(_ phase: RunProgress.Phase, _ iterations: Int, _ elapsed: Double, _ remaining: Double? = nil) {
            progress(RunProgress(cellIndex: index, cellCount: count, label: cellLabel, phase: phase, iterations: iterations, elapsed: elapsed, remaining: remaining))
        }
        func fail(_ error: WorkerError, during phase: String) -> (CellResult, Bool) {
            var failed = cell
            failed.status = .failed
            switch error {
            case .reply(let payload):
                failed.error = CellError(kind: payload.kind.rawValue, message: payload.message)
            case .failure(let failure):
                let kind: String
                switch failure {
                case .timedOut: kind = "timeout"
                case .exited: kind = "worker_crash"
                case .couldNotStart: kind = "worker_start"
                case .protocolViolation: kind = "protocol"
                }
                failed.error = CellError(kind: kind, message: "during \(phase): \(failure.summary)")
            }
            report(.failed, 0, 0)
            if case .reply = error { return (failed, true) }
            return (failed, false)
        }

        // Load and compile.
        let variant = spec.variant
        let args = LoadArgs(
            model: spec.model.name, params: spec.model.params, device: prepared.device, precision: variant.precision.rawValue,
            compile: variant.compile.rawValue, batchSize: variant.batchSize, seed: plan.seed,
            channelsLast: variant.channelsLast, fullgraph: variant.fullgraph, dynamic: variant.dynamic)
        report(.load, 0, 0)
        let loaded: LoadResult
        do { loaded = try await worker.load(args) } catch { return fail(error, during: "load") }
        cell.coldStart = ColdStart(loadS: loaded.loadS, compileS: loaded.compileS, firstCallMS: loaded.firstCallMS)
        cell.parameters = loaded.parameters
        cell.flopsPerSample = loaded.flopsPerSample
        if variant.compile != .eager, variant.compile != .aotInductor || loaded.graphBreaks != nil {
            cell.compileStats = CompileStats(graphBreaks: loaded.graphBreaks ?? 0, recompiles: loaded.recompiles ?? 0, reasons: loaded.compileReasons ?? [])
        }
        let rule = plan.stopping
        var perIteration = max(loaded.firstCallMS / 1000, 1e-6)
        let isCUDA = prepared.device.hasPrefix("cuda")

        // Warm-up: until consecutive chunk medians agree.
        var warmupMedians: [Double] = []
        var warmupIterations = 0
        var warmupDecision = StoppingRule.WarmupDecision.more
        let warmStart = ContinuousClock.now
        while warmupDecision == .more && !Task.isCancelled {
            let remaining = rule.warmupIterations.map { max(1, $0 - warmupIterations) }
            let size = rule.chunkSize(perIteration: perIteration, remaining: remaining)
            let chunk: LatencyChunk
            do { chunk = try await worker.measureLatency(batchSize: variant.batchSize, iterations: size) } catch { return fail(error, during: "warm-up") }
            let times = (chunk.deviceNS ?? chunk.hostNS).map(Double.init)
            warmupIterations += times.count
            let median = Statistics.median(times)
            warmupMedians.append(median)
            perIteration = Statistics.median(chunk.hostNS.map(Double.init)) / 1e9
            let elapsed = seconds(since: warmStart)
            warmupDecision = rule.warmupDecision(chunkMedians: warmupMedians, iterations: warmupIterations, elapsed: elapsed)
            report(.warmup, warmupIterations, elapsed, max(0, rule.maxWarmup - elapsed))
        }

        // Measure: until the median's interval is narrow enough.
        var samples = LatencySamples()
        var hostSamples = LatencySamples()
        var overheads: [Double] = []
        var clock = "perf_counter"
        var decision = StoppingRule.MeasureDecision.more
        let measureStart = ContinuousClock.now
        while decision == .more {
            if Task.isCancelled {
                var skipped = cell
                skipped.status = .skipped
                skipped.error = CellError(kind: "interrupted", message: "interrupted while measuring")
                return (skipped, false)
            }
            let remaining = rule.iterations.map { max(1, $0 - samples.count) }
            let size = rule.chunkSize(perIteration: perIteration, remaining: remaining)
            let chunk: LatencyChunk
            do { chunk = try await worker.measureLatency(batchSize: variant.batchSize, iterations: size) } catch { return fail(error, during: "measure") }
            clock = chunk.clock
            samples.append(contentsOf: chunk.deviceNS ?? chunk.hostNS)
            if let device = chunk.deviceNS {
                hostSamples.append(contentsOf: chunk.hostNS)
                overheads.append(contentsOf: zip(chunk.hostNS, device).map { Double($0 - $1) })
            }
            perIteration = Statistics.median(chunk.hostNS.map(Double.init)) / 1e9
            let elapsed = seconds(since: measureStart)
            let width = samples.count >= 2 ? (samples.summary()?.relativeMedianHalfWidth ?? .infinity) : .infinity
            decision = rule.measureDecision(iterations: samples.count, elapsed: elapsed, relativeHalfWidth: width)
            let eta: Double? = rule.iterations.map { Double($0 - samples.count) * perIteration } ?? max(0, min(rule.maxTime, max(rule.minTime, elapsed * pow(width / rule.targetCI, 2))) - elapsed)
            report(.measure, samples.count, elapsed, eta)
        }
        guard let summary = samples.summary() else { return fail(.failure(.protocolViolation("no samples measured")), during: "measure") }
        let measureSeconds = seconds(since: measureStart)
        cell.latencyMS = summary
        cell.samplesNS = samples.values
        cell.measurement = MeasurementInfo(
            clock: clock, warmupIterations: warmupIterations, warmupStable: warmupDecision == .stable,
            stopReason: decision.reason, measureSeconds: measureSeconds,
            launchOverheadMS: overheads.isEmpty ? nil : Statistics.median(overheads) / 1e6,
            hostLatencyMS: hostSamples.summary())
        cell.warnings = Outliers.warnings(for: samples.values.map(Double.init), summary: summary, rule: rule, decision: decision)
        if warmupDecision == .cappedUnstable {
            cell.warnings.append(CellWarning(kind: "warmup_unstable", message:
                "warm-up never stabilised (chunk medians kept moving for \(Int(rule.maxWarmup)) s); the first figures may include recompiles, autotuning or frequency changes — raise --warmup"))
        }

        // Throughput: back to back, one synchronize per chunk, as a saturated server runs.
        let batch = Double(variant.batchSize)
        let latencyThroughput = batch / (summary.mean / 1000)
        let latencyCI = [batch / (summary.ci95.mean[1] / 1000), batch / (summary.ci95.mean[0] / 1000)]
        cell.throughputPerS = latencyThroughput
        cell.throughputCI95 = latencyCI
        cell.throughputSource = "latency_mean"
        if plan.throughput && !Task.isCancelled {
            var rates: [Double] = []
            let tpStart = ContinuousClock.now
            let chunks = 5
            for i in 0..<chunks {
                let size = max(rule.chunkSize(perIteration: perIteration), 2)
                let chunk: ThroughputChunk
                do { chunk = try await worker.measureThroughput(batchSize: variant.batchSize, iterations: size) } catch { return fail(error, during: "throughput") }
                if chunk.totalNS > 0 { rates.append(batch * Double(chunk.iterations) / (Double(chunk.totalNS) / 1e9)) }
                report(.throughput, i + 1, seconds(since: tpStart))
            }
            if rates.count >= 2 {
                let m = Statistics.meanInterval(rates)
                cell.throughputPerS = m.mean
                cell.throughputCI95 = [m.lower, m.upper]
                cell.throughputSource = "back_to_back"
            }
        }
        if let flops = cell.flopsPerSample, let tp = cell.throughputPerS { cell.achievedTFLOPS = flops * tp / 1e12 }

        // Correctness against eager fp32.
        if plan.verify && spec.model.name != "synthetic" && !Task.isCancelled {
            report(.verify, 0, 0)
            do {
                let v = try await worker.verify(batchSize: variant.batchSize)
                cell.accuracy = Accuracy(maxAbsErr: v.maxAbsErr, maxRelErr: v.maxRelErr, cosine: v.cosine, withinTolerance: v.withinTolerance)
                if !v.withinTolerance {
                    cell.warnings.append(CellWarning(kind: "accuracy", message: String(
                        format: "outputs differ from eager fp32 beyond the %@ tolerance (max abs err %.3g, cosine %.6f); check the precision or compile mode before trusting this variant",
                        variant.precision.rawValue, v.maxAbsErr, v.cosine)))
                }
            } catch {
                if case .failure = error { return fail(error, during: "verify") }
                cell.warnings.append(CellWarning(kind: "verify_failed", message: "could not verify outputs: \(WorkerError.describe(error))"))
            }
        }

        // Memory.
        if let m = try? await worker.memory(resetPeak: true) {
            cell.memoryMB = MemoryFigures(peakAllocated: m.peakAllocatedMB, peakReserved: m.peakReservedMB, deviceUsed: m.deviceUsedMB, workerRSS: m.rssMB)
        }
        _ = isCUDA
        report(.done, samples.count, measureSeconds)
        return (cell, true)
    }

    func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

extension StoppingRule.MeasureDecision {
    var reason: String {
        switch self {
        case .more: return "running"
        case .targetMet: return "target_ci_met"
        case .fixedCountDone: return "fixed_iterations"
        case .maxTimeReached: return "max_time"
        }
    }
}
