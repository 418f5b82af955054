import Foundation

/// Runs a plan's cells on workers and collects their results.
///
/// A failing cell (an error reply, a crashed or hung worker) is recorded with its reason and
/// the sweep goes on with a fresh worker. Cancellation (Ctrl-C) stops between chunks; the
/// cells not finished are recorded as skipped and the run is marked incomplete.
public struct BenchmarkRunner: Sendable {
    public struct Environment: Sendable {
        public var spec: PythonEnvironmentSpec
        public var starter: any WorkerStarter

        public init(spec: PythonEnvironmentSpec, starter: any WorkerStarter) {
            self.spec = spec
            self.starter = starter
        }
    }

    public var plan: Plan
    public var environments: [Environment]
    public var progress: @Sendable (RunProgress) -> Void
    /// Called with the results so far after each cell, to persist them.
    public var checkpoint: @Sendable (RunResults) -> Void
    /// Samples the GPUs and the host the whole run long; nil for no telemetry.
    public var telemetry: TelemetrySampler?
    /// Chooses the plan from what the first worker found (a GPU or not), replacing `plan`:
    /// the default plan for the hardware, without a separate probe worker.
    public var choosePlan: (@Sendable (WorkerEnvironment) -> Plan)?
    /// Told, once the workers know their devices, what a user should know before the cells
    /// run (GPU telemetry that is off on a GPU run).
    public var note: @Sendable (String) -> Void = { _ in }

    public init(
        plan: Plan, environments: [Environment], progress: @escaping @Sendable (RunProgress) -> Void = { _ in },
        checkpoint: @escaping @Sendable (RunResults) -> Void = { _ in }, telemetry: TelemetrySampler? = nil
    ) {
        self.telemetry = telemetry
        self.plan = plan
        self.environments = environments
        self.progress = progress
        self.checkpoint = checkpoint
    }

    /// A started worker and what it told us.
    struct Prepared {
        var worker: Worker
        var hello: HelloResult
        var device: String
    }

    /// Starts one worker per environment and checks the plan against it: PyTorch present,
    /// the device available, every model known. Throws before any cell runs.
    func prepare(_ environment: Environment, started: (Worker, HelloResult)? = nil) async throws(InferbenchError) -> Prepared {
        let worker: Worker
        let hello: HelloResult
        if let started {
            (worker, hello) = started
        } else {
            (worker, hello) = try await environment.starter.start(label: environment.spec.name)
        }
        do {
            let device = try await Self.preflight(
                models: plan.sizedModels, device: plan.device, worker: worker, hello: hello, python: environment.spec.python,
                lengthSweep: !plan.seq.isEmpty)
            return Prepared(worker: worker, hello: hello, device: device)
        } catch {
            await worker.shutdown()
            throw error
        }
    }

    /// Checks a plan's models and device against a started worker: PyTorch present (unless
    /// only the synthetic model runs), the device available, every model known (with "did you
    /// mean" suggestions). Returns the device to use.
    public static func preflight(
        models: [ModelSpec], device choice: DeviceChoice, worker: Worker, hello: HelloResult, python: String, lengthSweep: Bool = false
    ) async throws(InferbenchError) -> String {
        let env = hello.env
        if models.contains(where: { $0.name != "synthetic" }), env.torch == nil {
            throw .environment(
                "PyTorch is not importable by \(python) (\(env.torchError ?? "no torch")): run `\(python) -m pip install torch torchvision transformers`, or pick another Python with --python"
            )
        }
        let device = try resolveDevice(choice, env: env, python: python)
        let zoo: [ZooEntry]
        do { zoo = try await worker.models() } catch { throw .worker("the worker could not list its models: \(WorkerError.describe(error))") }
        let known = zoo.map(\.name)
        for model in models where !model.isUserModel && !known.contains(model.name) {
            let near = suggestions(for: model.name, among: known)
            let hint = near.isEmpty ? "" : " Did you mean \(near.joined(separator: ", "))?"
            throw .badInput("unknown model `\(model.name)`.\(hint) `inferbench models` lists them all.")
        }
        if lengthSweep {
            let axes = zoo.filter { $0.length == ModelSpec.lengthKey }.map(\.name)
            for model in models where !axes.contains(model.name) {
                throw .badInput(
                    "--seq: model `\(model.withoutLength)` has no sequence length to sweep (those that do: \(axes.joined(separator: ", "))); drop --seq or the model"
                )
            }
        }
        // Parameters the worker would reject at load are bad input now, not a failed cell later.
        for model in models {
            do { try await worker.check(model: model) } catch {
                if case .reply(let payload) = error, payload.kind == .badRequest {
                    throw .badInput("--model \(model): \(payload.message)")
                }
                throw .worker("the worker could not check --model \(model): \(WorkerError.describe(error))")
            }
        }
        return device
    }

    public static func resolveDevice(_ choice: DeviceChoice, env: WorkerEnvironment, python: String) throws(InferbenchError) -> String {
        switch choice {
        case .cpu: return "cpu"
        case .auto: return env.cudaAvailable ? "cuda:0" : "cpu"
        case .cuda(let index):
            guard env.cudaAvailable, !env.gpus.isEmpty else {
                throw .environment(
                    "--device \(choice) asked for CUDA, but PyTorch \(env.torch ?? "?") under \(python) sees no CUDA GPU\(env.cuda == nil ? " (it is a CPU-only build)" : ""); use --device cpu or --device auto"
                )
            }
            let i = index ?? 0
            guard i < env.gpus.count else {
                throw .environment("--device cuda:\(i): only \(env.gpus.count) GPU(s) visible (cuda:0…cuda:\(env.gpus.count - 1))")
            }
            return "cuda:\(i)"
        }
    }

    /// Runs every cell. Throws only for problems found before the first cell.
    public func run(info: RunInfo) async throws(InferbenchError) -> RunResults {
        guard let first = environments.first else { throw .internal("a run needs at least one Python environment") }
        var runner = self
        var started: (Worker, HelloResult)? = nil
        if let choosePlan {
            started = try await first.starter.start(label: first.spec.name)
            runner.plan = choosePlan(started!.1.env)
            runner.choosePlan = nil
        }
        var info = info
        info.plan = runner.plan
        return try await runner.measure(info: info, firstWorker: started)
    }

    /// ``run(info:)`` once the plan is known; `firstWorker` is the first environment's worker
    /// when it was started to choose the plan.
    func measure(info: RunInfo, firstWorker: (Worker, HelloResult)?) async throws(InferbenchError) -> RunResults {
        do { try plan.validate() } catch {
            if let firstWorker { await firstWorker.0.shutdown() }
            throw error
        }
        var results = RunResults(run: info)
        var prepared: [String: Prepared] = [:]
        telemetry?.start()
        defer { telemetry?.stop() }
        for (i, environment) in environments.enumerated() {
            if Task.isCancelled {
                if i == 0, let firstWorker { await firstWorker.0.shutdown() }
                break
            }
            let p = try await prepare(environment, started: i == 0 ? firstWorker : nil)
            prepared[environment.spec.name] = p
            results.environments.append(Self.record(environment.spec, p.hello, device: p.device))
        }
        if results.environments.contains(where: { $0.device?.hasPrefix("cuda") == true }), let reason = telemetry?.unavailableReason {
            note("GPU telemetry off: \(reason)")
        }
        let cells = environments.flatMap { plan.cells(environment: $0.spec.name) }
        checkpoint(results)
        let gpu = results.environments.contains { $0.device?.hasPrefix("cuda") == true }
        let processes = plan.processes.range(gpu: gpu)
        var replicas: [String: [(replicate: Int, cell: CellResult)]] = [:]
        var cache = Derived.Cache()
        var done = 0
        for (s, sweep) in plan.sweeps(cells).enumerated() {
            let firstIndex = done
            done += sweep.reduce(0) { $0 + $1.count }
            var pending = Array(sweep.indices)
            for number in 1...processes.most where !pending.isEmpty && !Task.isCancelled {
                var lanes: [String: Lane] = [:]
                let replica = Replica(number: number, planned: max(processes.start, number), group: "\(s)")
                var index = firstIndex + sweep[..<pending[0]].reduce(0) { $0 + $1.count }
                for stepIndex in pending {
                    let step = sweep[stepIndex]
                    let stepResults = await runStep(
                        step, replica: replica, firstIndex: index, count: cells.count, lanes: &lanes, prepared: &prepared,
                        environmentRecords: results.environments)
                    index += step.count
                    for (spec, cell) in zip(step, stepResults) {
                        replicas[spec.id, default: []].append((number, cell))
                        upsert(withTelemetry(ReplicateMerge.merge(replicas[spec.id]!, rule: plan.stopping)), into: &results.cells, order: cells)
                    }
                    results.telemetry = telemetry?.snapshot()
                    results.comparisons = Derived.comparisons(results.cells, cache: &cache)
                    Derived.fillBreakeven(&results.cells, comparisons: results.comparisons)
                    checkpoint(results)
                }
                await release(lanes, prepared: &prepared, fresh: processes.most > 1)
                // More processes for the steps whose processes disagree, beyond the first ones.
                if number >= processes.start {
                    let cellsNow = results.cells
                    pending = pending.filter { i in
                        sweep[i].contains { spec in needsAnotherProcess(cellsNow.first { $0.id == spec.id }) }
                    }
                }
            }
        }
        // Cells a stop kept from running are recorded as not run.
        for spec in cells where !results.cells.contains(where: { $0.id == spec.id }) {
            var c = CellResult(spec: spec, status: .skipped)
            c.error = CellError(kind: .interrupted, message: "not run: the run was interrupted")
            upsert(c, into: &results.cells, order: cells)
        }
        for p in prepared.values { await p.worker.shutdown() }
        telemetry?.stop()
        results.telemetry = telemetry?.snapshot()
        IntervalModeration.apply(&results, rule: plan.stopping)
        results.run.finishedAt = Date()
        results.run.status = results.cells.contains { $0.status == .skipped && $0.error?.kind == .interrupted } ? .incomplete : .complete
        checkpoint(results)
        return results
    }

    /// Adds the GPU and host figures of a cell's measured phase, and a throttling warning.
    func withTelemetry(_ cell: CellResult) -> CellResult {
        guard let telemetry, let start = cell.measurement?.phaseStart, let end = cell.measurement?.phaseEnd,
            let n = cell.latencyMS?.n
        else { return cell }
        var cell = cell
        let gpu = cell.device.flatMap { $0.hasPrefix("cuda") ? Int($0.split(separator: ":").last ?? "0") ?? 0 : nil }
        let windows = cell.measurement?.chunkWindows?.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } ?? [(start, end)]
        let timeline = telemetry.snapshot(from: start, to: end)
        let aggregate = timeline.aggregate(
            windows: windows.isEmpty ? [(start, end)] : windows, samplesProcessed: n * cell.variant.batchSize, gpus: gpu.map { [$0] })
        cell.telemetry = aggregate
        Self.fillProcessCPU(&cell, timeline, windows: windows)
        if let busy = Self.hostBusy(aggregate, cores: ProcessInfo.processInfo.activeProcessorCount) {
            cell.warnings.removeAll { $0.kind == .hostBusy }
            cell.warnings.append(CellWarning(kind: .hostBusy, message: busy))
        }
        if aggregate.throttled {
            let reasons = ThrottleReasons(names: aggregate.throttleReasons).intersection(.throttling).names.joined(separator: ", ")
            cell.warnings.append(
                CellWarning(
                    kind: .throttled,
                    message:
                        "the GPU was throttled during measurement (\(reasons)); latency may be higher than the card can do: check cooling and power limits, or lock clocks"
                ))
        }
        return cell
    }

    /// Replaces the cell with `cell.id` (or inserts it in plan order).
    func upsert(_ cell: CellResult, into cells: inout [CellResult], order: [CellSpec]) {
        if let i = cells.firstIndex(where: { $0.id == cell.id }) {
            cells[i] = cell
            return
        }
        let rank = order.firstIndex { $0.id == cell.id } ?? order.count
        let at = cells.firstIndex { c in (order.firstIndex { $0.id == c.id } ?? order.count) > rank } ?? cells.count
        cells.insert(cell, at: at)
    }

    /// Whether a cell's processes disagree beyond their own intervals while its interval is
    /// still wider than the target: another process would tell which of them is typical.
    func needsAnotherProcess(_ cell: CellResult?) -> Bool {
        guard let cell, cell.status == .ok, let records = cell.measurement?.processes, let summary = cell.latencyMS else { return false }
        return ReplicateMerge.disagree(records.filter { $0.status == .ok }) && summary.relativeMedianHalfWidth > plan.stopping.targetCI
    }

    /// Each process's host CPU and worker CPU over its own chunks, so that a slow process can
    /// be told apart from one that shared the host with something busy. The chunk windows are
    /// in process order, `chunks` of them per process that measured.
    static func fillProcessCPU(_ cell: inout CellResult, _ timeline: Timeline, windows: [(Double, Double)]) {
        guard var records = cell.measurement?.processes, windows.count == records.reduce(0, { $0 + ($1.samples > 0 ? $1.chunks : 0) }) else { return }
        var start = 0
        for i in records.indices where records[i].samples > 0 && records[i].chunks > 0 {
            let own = Array(windows[start..<start + records[i].chunks])
            start += records[i].chunks
            let a = timeline.aggregate(windows: own, samplesProcessed: nil)
            var state = records[i].state ?? ProcessEvidence()
            state.hostCPUUtil = a.hostCPUUtilMean
            state.workerCPUUtil = a.workerCPUUtilMean
            records[i].state = state
        }
        cell.measurement?.processes = records
    }

    /// A warning when other processes kept the host's CPUs busy during a cell's chunks: at
    /// least half of the CPUs the worker did not use (and most of one on a 2-CPU machine). Seen
    /// on the 2-core development VM with another job running: mlp default vs eager read 0.06×,
    /// its samples on 4 ms scheduler-tick multiples; alone it read 0.96×.
    static func hostBusy(_ a: TelemetryAggregate, cores: Int) -> String? {
        guard let host = a.hostCPUUtilMean, cores >= 1 else { return nil }
        let worker = (a.workerCPUUtilMean ?? 0) / 100
        let others = host / 100 * Double(cores) - worker - 0.25
        guard others >= max(0.75, 0.5 * Double(cores - 1)) else { return nil }
        return String(
            format:
                "other processes kept about %.1f of %d CPUs busy while this cell was measured (host CPU %.0f%%, this worker %.0f%% of one CPU); its figures are not the model's alone and the conclusion draws no verdict from them. Rerun on a quiet machine",
            others, cores, host, worker * 100)
    }

    func label(_ spec: CellSpec) -> String {
        environments.count > 1 ? "\(spec.model) [\(spec.environment)] \(spec.variant.label)" : "\(spec.model) \(spec.variant.label)"
    }

    public static func record(_ spec: PythonEnvironmentSpec, _ hello: HelloResult, device: String) -> EnvironmentRecord {
        let env = hello.env
        var record = EnvironmentRecord(
            name: spec.name, python: env.pythonExecutable ?? spec.python, pythonVersion: env.python, torch: env.torch,
            cuda: env.cuda, cudnn: env.cudnn, triton: env.triton,
            gpus: env.gpus.map { gpu in
                // PyTorch cannot tell the driver version or power limit; NVML can.
                let nvml = ProcessGPUMemory.nvml
                let handle = nvml?.device(gpu.index)
                return .init(
                    name: gpu.name, driver: gpu.driver ?? nvml?.driverVersion, memoryMB: gpu.memoryMB,
                    powerLimitW: gpu.powerLimitW ?? handle.flatMap { nvml?.powerLimit($0) })
            },
            device: device)
        record.threads = env.torchThreads
        record.threadEnvironment = env.threadEnv
        return record
    }
}
