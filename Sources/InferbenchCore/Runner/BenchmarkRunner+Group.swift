import Foundation

extension BenchmarkRunner {
    /// Runs a group of compared cells: each on its own worker, loaded and warmed up in turn,
    /// then measured in alternating rounds (A, B, A, B …) so drift on the machine lands on
    /// every variant alike, then finished (throughput, verify, memory) one by one.
    ///
    /// The first cell uses the environment's long-lived worker; the others get workers of
    /// their own that are shut down after the group. Returns the cells in group order.
    func runGroup(
        _ group: [CellSpec], firstIndex: Int, count: Int, prepared: inout [String: Prepared], environmentRecords: [EnvironmentRecord]
    ) async -> [CellResult] {
        var results: [CellResult?] = Array(repeating: nil, count: group.count)
        var active: [ActiveCell] = []
        let environmentName = group[0].environment
        let environment = environments.first { $0.spec.name == environmentName }!
        let device = environmentRecords.first { $0.name == environmentName }?.device ?? "cpu"

        func skipped(_ spec: CellSpec) -> CellResult {
            var c = CellResult(spec: spec, status: .skipped)
            c.error = CellError(kind: "interrupted", message: "not run: the run was interrupted")
            return c
        }

        // Load and warm up each variant.
        for (position, spec) in group.enumerated() {
            let index = firstIndex + position
            if Task.isCancelled { results[position] = skipped(spec); continue }
            let owns = position > 0
            var worker: Prepared? = owns ? nil : prepared[environmentName]
            if worker == nil {
                progressReporter(spec, index: index, count: count)(.starting, 0, 0, nil)
                do {
                    let (w, hello) = try await environment.starter.start(label: environmentName)
                    worker = Prepared(worker: w, hello: hello, device: device)
                    if !owns { prepared[environmentName] = worker }
                } catch {
                    var c = CellResult(spec: spec, status: .failed)
                    c.error = CellError(kind: "worker_start", message: error.description)
                    results[position] = c
                    continue
                }
            }
            switch await prepareCell(spec, position: position, on: worker!, ownsWorker: owns, index: index, count: count) {
            case .ok(let cell):
                active.append(cell)
            case .failed(let cell, let usable):
                results[position] = cell
                await release(worker!, owns: owns, usable: usable, environmentName: environmentName, prepared: &prepared)
            }
        }

        // The host sampler watches the processes being measured.
        if let telemetry {
            var pids: [Int32] = []
            for cell in active { if let pid = await cell.prepared.worker.processID { pids.append(pid) } }
            telemetry.setWatchedPIDs(pids)
        }

        // Measure in rounds, `repeats` times over.
        for _ in 0..<plan.repeats {
            var repeatStarts: [Int] = active.map { $0.measurement.samples.count }
            for i in active.indices {
                active[i].measurement.decision = .more
                active[i].measurement.measuredSeconds = 0
            }
            while !Task.isCancelled, active.contains(where: { $0.measurement.decision == .more }) {
                var i = 0
                while i < active.count {
                    guard active[i].measurement.decision == .more else { i += 1; continue }
                    if let (failedCell, usable) = await measureChunk(
                        &active[i], repeatStart: repeatStarts[i], index: firstIndex + active[i].position, count: count)
                    {
                        results[active[i].position] = failedCell
                        await release(active[i].prepared, owns: active[i].ownsWorker, usable: usable, environmentName: environmentName, prepared: &prepared)
                        active.remove(at: i)
                        repeatStarts.remove(at: i)
                        continue
                    }
                    i += 1
                }
            }
            for i in active.indices { active[i].measurement.repeatBoundaries.append(active[i].measurement.samples.count) }
        }

        // Finish each cell; an interrupted cell with samples is kept, marked by its stop reason.
        for cell in active {
            let index = firstIndex + cell.position
            if Task.isCancelled && cell.measurement.samples.count == 0 {
                results[cell.position] = skipped(cell.spec)
                await release(cell.prepared, owns: cell.ownsWorker, usable: true, environmentName: environmentName, prepared: &prepared)
                continue
            }
            var (result, usable) = await finishCell(cell, index: index, count: count)
            if Task.isCancelled && result.status == .ok {
                result.status = .skipped
                result.error = CellError(kind: "interrupted", message: "interrupted while measuring; partial figures kept")
            }
            results[cell.position] = result
            await release(cell.prepared, owns: cell.ownsWorker, usable: usable, environmentName: environmentName, prepared: &prepared)
        }
        return zip(group, results).map { spec, result in result ?? skipped(spec) }
    }

    /// Ends a group's extra worker, or drops the environment's worker when it is unusable.
    func release(_ p: Prepared, owns: Bool, usable: Bool, environmentName: String, prepared: inout [String: Prepared]) async {
        if owns {
            if usable { await p.worker.shutdown() } else { await p.worker.kill() }
        } else if !usable {
            await p.worker.kill()
            prepared[environmentName] = nil
        } else {
            _ = try? await p.worker.unload()
        }
    }
}
