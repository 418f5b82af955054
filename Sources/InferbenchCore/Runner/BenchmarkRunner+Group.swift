import Foundation

extension BenchmarkRunner {
    /// A lane of a batch sweep: the worker of one environment × variant, kept from one batch
    /// size to the next so that the loaded model (and its compiled graphs) can serve them all.
    struct Lane {
        var prepared: Prepared
        var environment: String
    }

    /// Runs one step of a sweep: the compared cells of one batch size, each on its lane's
    /// worker, loaded (or re-batched) and warmed up in turn, then measured in alternating
    /// rounds (A, B, A, B …) so drift on the machine lands on every variant alike, then
    /// finished (throughput, verify, memory) one by one.
    ///
    /// A lane without a worker takes its environment's long-lived one or starts a new one; a
    /// lane whose worker is no longer usable loses it, and the next step starts afresh.
    /// Returns the cells in step order.
    func runStep(
        _ group: [CellSpec], replica: Replica, firstIndex: Int, count: Int, lanes: inout [String: Lane], prepared: inout [String: Prepared],
        environmentRecords: [EnvironmentRecord]
    ) async -> [CellResult] {
        var results: [CellResult?] = Array(repeating: nil, count: group.count)
        var active: [ActiveCell] = []

        func skipped(_ spec: CellSpec) -> CellResult {
            var c = CellResult(spec: spec, status: .skipped)
            c.error = CellError(kind: .interrupted, message: "not run: the run was interrupted")
            return c
        }

        // Load (or re-batch) and warm up each variant.
        for (position, spec) in group.enumerated() {
            let index = firstIndex + position
            if Task.isCancelled { results[position] = skipped(spec); continue }
            let lane = Plan.lane(of: spec)
            let reuse = lanes[lane] != nil
            if lanes[lane] == nil {
                if let p = prepared.removeValue(forKey: spec.environment) {
                    lanes[lane] = Lane(prepared: p, environment: spec.environment)
                } else {
                    progressReporter(spec, index: index, count: count, replica: replica)(.starting, 0, 0, nil)
                    let environment = environments.first { $0.spec.name == spec.environment }!
                    let device = environmentRecords.first { $0.name == spec.environment }?.device ?? "cpu"
                    do {
                        let (w, hello) = try await environment.starter.start(label: spec.environment)
                        lanes[lane] = Lane(prepared: Prepared(worker: w, hello: hello, device: device), environment: spec.environment)
                    } catch {
                        var c = CellResult(spec: spec, status: .failed)
                        c.error = CellError(kind: .workerStart, message: error.description)
                        results[position] = replica.stamp(c)
                        continue
                    }
                }
            }
            switch await prepareCell(spec, position: position, on: lanes[lane]!.prepared, reuse: reuse, index: index, count: count, replica: replica) {
            case .ok(let cell):
                active.append(cell)
            case .failed(let cell, let usable):
                results[position] = replica.stamp(cell)
                if !usable { await drop(lane, from: &lanes) }
            }
        }

        // The host sampler watches the processes being measured.
        if let telemetry {
            var pids: [Int32] = []
            for cell in active { if let pid = await cell.prepared.worker.processID { pids.append(pid) } }
            telemetry.setWatchedPIDs(pids)
        }

        // Measure in rounds, `repeats` times over. The cell that used its worker last: a chunk
        // after another cell's starts with a call that is not counted (the switch).
        var last = active.last?.spec.id
        var round = 0
        for _ in 0..<plan.repeats {
            var repeatStarts: [Int] = active.map { $0.measurement.samples.count }
            for i in active.indices {
                active[i].measurement.decision = .more
                active[i].measurement.measuredSeconds = 0
            }
            while !Task.isCancelled, active.contains(where: { $0.measurement.decision == .more }) {
                round += 1
                var i = 0
                while i < active.count {
                    guard active[i].measurement.decision == .more else { i += 1; continue }
                    if let (failedCell, usable) = await measureChunk(
                        &active[i], repeatStart: repeatStarts[i], afterSwitch: last != active[i].spec.id, round: round,
                        index: firstIndex + active[i].position, count: count, replica: replica)
                    {
                        results[active[i].position] = replica.stamp(failedCell)
                        progressReporter(active[i].spec, index: firstIndex + active[i].position, count: count, replica: replica)(.failed, 0, 0, nil)
                        if !usable { await drop(Plan.lane(of: active[i].spec), from: &lanes) }
                        active.remove(at: i)
                        repeatStarts.remove(at: i)
                        last = nil
                        continue
                    }
                    last = active[i].spec.id
                    i += 1
                }
            }
            for i in active.indices { active[i].measurement.repeatBoundaries.append(active[i].measurement.samples.count) }
        }
        if plan.throughput {
            await measureThroughputRounds(
                &active, results: &results, lanes: &lanes, firstIndex: firstIndex, count: count, replica: replica)
        }

        // Finish each cell; an interrupted cell with samples is kept, marked by its stop reason.
        // Each cell's last progress line says how it ended: done, failed or skipped.
        for cell in active {
            let index = firstIndex + cell.position
            let report = progressReporter(cell.spec, index: index, count: count, replica: replica)
            if Task.isCancelled && cell.measurement.samples.count == 0 {
                results[cell.position] = replica.stamp(skipped(cell.spec))
                report(.skipped, 0, 0, nil)
                continue
            }
            var (result, usable) = await finishCell(cell, index: index, count: count, replica: replica)
            if Task.isCancelled && result.status == .ok {
                result.status = .skipped
                result.error = CellError(kind: .interrupted, message: "interrupted while measuring; partial figures kept")
            }
            let phase: RunProgress.Phase = result.status == .ok ? .done : result.status == .skipped ? .skipped : .failed
            report(phase, cell.measurement.samples.count, cell.measurement.measuredSeconds, nil)
            results[cell.position] = replica.stamp(result)
            if !usable { await drop(Plan.lane(of: cell.spec), from: &lanes) }
        }
        return zip(group, results).map { spec, result in result ?? replica.stamp(skipped(spec)) }
    }

    /// Back-to-back throughput in rounds across the step's cells, like latency, so that the
    /// machine's drift lands on every variant alike. Each chunk after another cell's starts
    /// with one untimed call (the switch).
    func measureThroughputRounds(
        _ active: inout [ActiveCell], results: inout [CellResult?], lanes: inout [String: Lane], firstIndex: Int, count: Int,
        replica: Replica
    ) async {
        let rounds = 5
        for round in 0..<rounds {
            var i = 0
            while i < active.count, !Task.isCancelled {
                let cell = active[i]
                let batch = cell.spec.variant.batchSize
                let size = max(plan.stopping.chunkSize(perIteration: cell.measurement.perIteration), 2)
                do {
                    if active.count > 1 { _ = try await cell.prepared.worker.measureLatency(batchSize: batch, iterations: 1) }
                    let chunk = try await cell.prepared.worker.measureThroughput(batchSize: batch, iterations: size)
                    if chunk.totalNS > 0 {
                        active[i].measurement.throughputRates.append(Double(batch * chunk.iterations) / (Double(chunk.totalNS) / 1e9))
                    }
                    if let proc = chunk.proc { active[i].measurement.record(proc) }
                } catch {
                    let (failedCell, usable) = failed(cell.cell, error, during: "throughput")
                    results[cell.position] = replica.stamp(failedCell)
                    progressReporter(cell.spec, index: firstIndex + cell.position, count: count, replica: replica)(.failed, 0, 0, nil)
                    if !usable { await drop(Plan.lane(of: cell.spec), from: &lanes) }
                    active.remove(at: i)
                    continue
                }
                progressReporter(cell.spec, index: firstIndex + cell.position, count: count, replica: replica)(.throughput, round + 1, 0, nil)
                i += 1
            }
        }
    }

    /// Stops a lane's worker that can no longer be trusted (crashed, hung, mid-compile).
    func drop(_ lane: String, from lanes: inout [String: Lane]) async {
        if let l = lanes.removeValue(forKey: lane) { await l.prepared.worker.kill() }
    }

    /// After a sweep: the first lane worker of each environment that unloads cleanly becomes
    /// the environment's long-lived worker again; the others are shut down. With `fresh`
    /// (several processes per cell) all are shut down: the next process must be a new one.
    func release(_ lanes: [String: Lane], prepared: inout [String: Prepared], fresh: Bool = false) async {
        for key in lanes.keys.sorted() {
            let lane = lanes[key]!
            if !fresh, !Task.isCancelled, prepared[lane.environment] == nil, (try? await lane.prepared.worker.unload()) != nil {
                prepared[lane.environment] = lane.prepared
            } else {
                await lane.prepared.worker.shutdown()
            }
        }
    }
}
