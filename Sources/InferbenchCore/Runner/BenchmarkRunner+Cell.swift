import Foundation

extension BenchmarkRunner {
    /// A cell that loaded and warmed up, on its own worker, ready to be measured.
    struct ActiveCell {
        var position: Int
        var spec: CellSpec
        var prepared: Prepared
        var cell: CellResult
        var measurement: CellMeasurement
    }

    /// The outcome of a step that can fail: the failed cell, and whether its worker is still usable.
    enum Step<T> {
        case ok(T)
        case failed(CellResult, workerUsable: Bool)
    }

    /// Which process of a cell's replicates is running, and the sweep whose cells it
    /// measures side by side with (for pairing chunks across cells).
    struct Replica: Sendable {
        var number: Int
        var planned: Int
        var group: String

        static let single = Replica(number: 1, planned: 1, group: "0")

        /// Marks a cell's figures as this process's.
        func stamp(_ cell: CellResult) -> CellResult {
            var cell = cell
            cell.measurement?.interleaveGroup = group
            if cell.measurement?.processes?.isEmpty == false { cell.measurement?.processes?[0].replicate = number }
            return cell
        }
    }

    func progressReporter(_ spec: CellSpec, index: Int, count: Int, replica: Replica = .single) -> (RunProgress.Phase, Int, Double, Double?) -> Void {
        let cellLabel = label(spec) + (replica.planned > 1 ? " · process \(replica.number)" : "")
        return { phase, iterations, elapsed, remaining in
            progress(
                RunProgress(cellIndex: index, cellCount: count, label: cellLabel, phase: phase, iterations: iterations, elapsed: elapsed, remaining: remaining))
        }
    }

    /// Turns a worker error into a failed cell; after Ctrl-C every failure reads as "interrupted".
    func failed(_ base: CellResult, _ error: WorkerError, during phase: String) -> (CellResult, Bool) {
        var cell = base
        cell.status = .failed
        if Task.isCancelled {
            cell.status = .skipped
            cell.error = CellError(kind: .interrupted, message: "interrupted during \(phase)")
            return (cell, false)
        }
        switch error {
        case .reply(let payload):
            cell.error = CellError(kind: ErrorKind(rawValue: payload.kind.rawValue), message: payload.message)
            return (cell, true)
        case .failure(let failure):
            let kind: ErrorKind
            switch failure {
            case .timedOut: kind = .timeout
            case .exited: kind = .workerCrash
            case .couldNotStart: kind = .workerStart
            case .protocolViolation: kind = .protocolViolation
            }
            cell.error = CellError(kind: kind, message: "during \(phase): \(failure.summary)")
            return (cell, false)
        }
    }

    /// Loads, compiles and warms up one cell. With `reuse` the worker still holds this lane's
    /// variant from the previous batch size and serves the new one with it, when it can.
    func prepareCell(
        _ spec: CellSpec, position: Int, on prepared: Prepared, reuse: Bool, index: Int, count: Int, replica: Replica = .single
    ) async -> Step<ActiveCell> {
        let worker = prepared.worker
        let report = progressReporter(spec, index: index, count: count, replica: replica)
        var cell = CellResult(spec: spec, status: .ok)
        cell.device = prepared.device
        let variant = spec.variant
        let args = LoadArgs(
            model: spec.model.name, params: spec.model.params, device: prepared.device, precision: variant.precision.rawValue,
            compile: variant.compile.rawValue, batchSize: variant.batchSize, seed: plan.seed,
            channelsLast: variant.channelsLast, fullgraph: variant.fullgraph, dynamic: variant.dynamic, reuse: reuse ? true : nil,
            packagePath: plan.packagePath(spec))
        report(.load, 0, 0, nil)
        let loaded: LoadResult
        do {
            // A compile can take minutes: on Ctrl-C stop the worker instead of waiting for it.
            loaded = try await withTaskCancellationHandler {
                try await worker.load(args)
            } onCancel: {
                Task { await worker.kill() }
            }
        } catch {
            let workerError = (error as? WorkerError) ?? .failure(.protocolViolation("\(error)"))
            let (c, usable) = failed(cell, workerError, during: "load")
            report(.failed, 0, 0, nil)
            return .failed(c, workerUsable: usable)
        }
        cell.coldStart = ColdStart(loadS: loaded.loadS, compileS: loaded.compileS, firstCallMS: loaded.firstCallMS)
        cell.coldStart?.compileCache = loaded.compileCache
        cell.coldStart?.batchReuse = loaded.batchReuse
        cell.coldStart?.gc = loaded.gc
        cell.coldStart?.compileWorkers = loaded.compileWorkers
        cell.parameters = loaded.parameters
        if loaded.compilePeakAllocatedMB != nil || loaded.compileRSSPeakMB != nil {
            var memory = MemoryFigures()
            memory.compilePeakAllocated = loaded.compilePeakAllocatedMB
            memory.compilePeakReserved = loaded.compilePeakReservedMB
            memory.compileRSSPeak = loaded.compileRSSPeakMB
            cell.memoryMB = memory
        }
        cell.flopsPerSample = loaded.flopsPerSample
        cell.stepsPerCall = loaded.stepsPerCall
        if variant.compile != .eager {
            cell.compileStats = CompileStats(graphBreaks: loaded.graphBreaks ?? 0, recompiles: loaded.recompiles ?? 0, reasons: loaded.compileReasons ?? [])
        }
        var m = CellMeasurement(perIteration: max(loaded.firstCallMS / 1000, 1e-6))
        let rule = plan.stopping
        var medians: [Double] = []
        let start = Monotonic.now()
        while m.warmupDecision == .more && !Task.isCancelled {
            let remaining = rule.warmupIterations.map { max(1, $0 - m.warmupIterations) }
            if rule.warmupIterations == 0 { m.warmupDecision = .stable; break }
            let size = rule.chunkSize(perIteration: m.perIteration, remaining: remaining)
            let chunk: LatencyChunk
            do { chunk = try await worker.measureLatency(batchSize: variant.batchSize, iterations: size) } catch {
                let (c, usable) = failed(cell, error, during: "warm-up")
                report(.failed, 0, 0, nil)
                return .failed(c, workerUsable: usable)
            }
            let times = (chunk.deviceNS ?? chunk.hostNS).map(Double.init)
            m.warmupIterations += times.count
            medians.append(Statistics.median(times))
            m.perIteration = Statistics.median(chunk.hostNS.map(Double.init)) / 1e9
            let elapsed = Monotonic.now() - start
            m.warmupDecision = rule.warmupDecision(chunkMedians: medians, iterations: m.warmupIterations, elapsed: elapsed)
            report(.warmup, m.warmupIterations, elapsed, max(0, rule.maxWarmup - elapsed))
        }
        return .ok(ActiveCell(position: position, spec: spec, prepared: prepared, cell: cell, measurement: m))
    }

    /// Measures one chunk of an active cell. Returns nil on success, or the failure.
    ///
    /// `afterSwitch`: other variants' processes ran since this cell's last chunk; the chunk
    /// gets one extra call, whose time is kept apart (see `CellMeasurement.add`).
    func measureChunk(
        _ active: inout ActiveCell, repeatStart: Int, afterSwitch: Bool, round: Int, index: Int, count: Int, replica: Replica = .single
    ) async -> (CellResult, Bool)? {
        let rule = plan.stopping
        let remaining = rule.iterations.map { max(1, $0 - (active.measurement.samples.count - repeatStart)) }
        let setAside = afterSwitch && active.measurement.setsAsideSwitchCall
        let size = rule.chunkSize(perIteration: active.measurement.perIteration, remaining: remaining) + (setAside ? 1 : 0)
        let t0 = Monotonic.now()
        if active.measurement.phaseStart == nil { active.measurement.phaseStart = t0 }
        let chunk: LatencyChunk
        do { chunk = try await active.prepared.worker.measureLatency(batchSize: active.spec.variant.batchSize, iterations: size) } catch {
            return failed(active.cell, error, during: "measure")
        }
        let t1 = Monotonic.now()
        active.measurement.phaseEnd = t1
        active.measurement.chunkWindows.append((t0, t1))
        active.measurement.add(chunk, seconds: t1 - t0, rule: rule, repeatStart: repeatStart, afterSwitch: setAside, round: round)
        progressReporter(active.spec, index: index, count: count, replica: replica)(
            .measure, active.measurement.samples.count, active.measurement.measuredSeconds, active.measurement.remaining(rule: rule))
        return nil
    }

    /// Summaries, throughput, memory and correctness of a cell measured in one process.
    func finishCell(_ active: ActiveCell, index: Int, count: Int, replica: Replica = .single) async -> (CellResult, Bool) {
        let report = progressReporter(active.spec, index: index, count: count, replica: replica)
        let worker = active.prepared.worker
        let rule = plan.stopping
        let m = active.measurement
        var cell = active.cell
        let variant = active.spec.variant
        guard let summary = m.samples.summary() else {
            return failed(cell, .failure(.protocolViolation("no samples were measured")), during: "measure")
        }
        cell.latencyMS = summary
        cell.samplesNS = m.samples.values
        cell.measurement = measurementInfo(m, pid: await worker.processID)
        cell.warnings = Outliers.warnings(for: m.samples.values.map(Double.init), summary: summary, rule: rule, decision: m.decision)
        if m.warmupDecision == .cappedUnstable {
            cell.warnings.append(
                CellWarning(
                    kind: .warmupUnstable,
                    message:
                        "warm-up never stabilised (chunk medians kept moving for \(Int(rule.maxWarmup)) s); the first figures may include recompiles, autotuning or frequency changes; raise --warmup"
                ))
        }
        if m.recompiledChunks > 0, let a = m.firstRecompiles, let b = m.lastRecompiles {
            cell.warnings.append(
                CellWarning(
                    kind: .recompiledWhileMeasuring,
                    message:
                        "\(m.recompiledChunks) of \(m.chunkSizes.count) measured chunks paid for a recompile (the worker's count went from \(a) to \(b)); their latency includes compile time. Look for inputs that change shape, or try --dynamic"
                ))
        }
        cell.measurement?.processes?[0].compileS = cell.coldStart?.compileS
        cell.measurement?.processes?[0].compileCache = cell.coldStart?.compileCache
        ReplicateMerge.fillThroughput(&cell)

        // Memory before the correctness check: the check's fp32 reference must not share the
        // peak that sizes a GPU for this variant.
        if let mem = try? await worker.memory(resetPeak: true) {
            var figures = cell.memoryMB ?? MemoryFigures()
            figures.peakAllocated = mem.peakAllocatedMB
            figures.peakReserved = mem.peakReservedMB
            figures.deviceUsed = mem.deviceUsedMB
            figures.workerRSS = mem.rssMB
            cell.memoryMB = figures
            // The worker's own footprint (context, allocator, workspaces, CUDA-graph pools), not
            // the whole card's: compared variants run side by side in their own processes.
            if let device = cell.device, device.hasPrefix("cuda"), let pid = await worker.processID,
                let own = ProcessGPUMemory.usedMB(pid: pid, gpu: Int(device.split(separator: ":").last ?? "0") ?? 0)
            {
                cell.memoryMB?.deviceUsed = own
            }
        }

        // Correctness against eager fp32, once per cell (in its first process). The synthetic
        // model has outputs to compare only when `error=` gives it a known error.
        let comparable = active.spec.model.name != "synthetic" || active.spec.model.params["error"] != nil
        if plan.verify && replica.number == 1 && comparable && !Task.isCancelled {
            report(.verify, 0, 0, nil)
            do {
                let v = try await worker.verify(batchSize: variant.batchSize)
                cell.accuracy = Accuracy(
                    maxAbsErr: v.maxAbsErr ?? .nan, maxRelErr: v.maxRelErr ?? .nan, cosine: v.cosine ?? .nan, withinTolerance: v.withinTolerance)
                if !v.withinTolerance {
                    cell.warnings.append(
                        CellWarning(
                            kind: .accuracy,
                            message: String(
                                format:
                                    "outputs differ from eager fp32 beyond the %@ tolerance (max abs err %.3g, cosine %.6f); check the precision or compile mode before trusting this variant",
                                variant.precision.rawValue, v.maxAbsErr ?? .nan, v.cosine ?? .nan)))
                }
            } catch {
                if case .failure = error { return failed(cell, error, during: "verify") }
                cell.warnings.append(CellWarning(kind: .verifyFailed, message: "could not verify outputs: \(WorkerError.describe(error))"))
            }
        }
        return (cell, true)
    }

    /// How one process measured: its chunks, rounds and process record.
    func measurementInfo(_ m: CellMeasurement, pid: Int32?) -> MeasurementInfo {
        let chunkMedians = m.chunkMedians
        var process = ProcessRecord(
            replicate: 1, status: .ok, chunks: m.chunkSizes.count, samples: m.samples.count, chunkMediansMS: chunkMedians.map { $0 / 1e6 })
        process.pid = pid
        process.medianMS = Quickselect.median(m.samples.values.map(Double.init)) / 1e6
        if let h = CellMeasurement.chunkHalfWidth(chunkMedians) {
            process.ci95 = Interval((h.center - h.half) / 1e6, (h.center + h.half) / 1e6)
        }
        process.launchOverheadMS = m.overheads.isEmpty ? nil : Statistics.median(m.overheads) / 1e6
        var evidence = m.evidence
        if m.onCPU.wall > 0 { evidence.onCPUFraction = m.onCPU.cpu / m.onCPU.wall }
        process.state = evidence
        var info = MeasurementInfo(
            clock: m.clock, warmupIterations: m.warmupIterations, warmupStable: m.warmupDecision == .stable,
            stopReason: m.decision.reason, measureSeconds: m.measuredSeconds,
            launchOverheadMS: process.launchOverheadMS,
            hostLatencyMS: m.hostSamples.summary(), repeatMediansMS: m.repeatMedians.isEmpty ? nil : m.repeatMedians,
            phaseStart: m.phaseStart, phaseEnd: m.phaseEnd, chunkWindows: m.chunkWindows.map { [$0.0, $0.1] }, chunkSizes: m.chunkSizes,
            switchCallsDiscarded: m.switchCalls.isEmpty ? nil : m.switchCalls.count,
            switchCallMedianMS: m.switchCalls.isEmpty ? nil : Statistics.median(m.switchCalls.map(Double.init)) / 1e6)
        info.processes = [process]
        info.chunkRounds = m.chunkRounds
        info.throughputRates = m.throughputRates.isEmpty ? nil : [m.throughputRates]
        return info
    }
}

extension StoppingRule.MeasureDecision {
    var reason: MeasureStopReason {
        switch self {
        case .more: return .running
        case .targetMet: return .targetCIMet
        case .fixedCountDone: return .fixedIterations
        case .maxTimeReached: return .maxTime
        }
    }
}
