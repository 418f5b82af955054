import Foundation
import InferbenchCore

extension Load {
    func scenario() throws(InferbenchError) -> LoadTest.Scenario {
        let stepDuration = try duration.map { (d: String) throws(InferbenchError) in try positiveDuration(d, flag: "--duration") } ?? 30
        let seed = UInt64(variant.seed ?? 0)
        if let qps { return .openLoop(arrival.schedule(qps: qps, seed: seed, burstiness: burstiness ?? 1), duration: stepDuration) }
        if let trace {
            let file = try TraceFile.load(path: trace)
            let length = try duration.map { (d: String) throws(InferbenchError) in try positiveDuration(d, flag: "--duration") } ?? file.span
            return .openLoop(.trace(file), duration: length)
        }
        if let concurrency {
            var levels: [Int] = []
            for item in concurrency.split(separator: ",", omittingEmptySubsequences: false) {
                guard let n = Int(item.trimmingCharacters(in: .whitespaces)), n >= 1, n <= 100_000 else {
                    throw .badInput("--concurrency \(item): give whole numbers ≥ 1, e.g. 1,2,4,8")
                }
                levels.append(n)
            }
            return .closedLoop(concurrency: levels, duration: stepDuration)
        }
        if let ramp {
            let parts = ramp.split(separator: ":").map(String.init)
            guard parts.count == 3, let from = Double(parts[0]), let to = Double(parts[1]), from >= 0, to >= 0, max(from, to) > 0 else {
                throw .badInput("--ramp \(ramp): expected FROM:TO:DURATION, e.g. 0:500:30s")
            }
            if let refusal = ArrivalSchedule.refusal(rate: max(from, to), flag: "--ramp") { throw .badInput(refusal) }
            return .openLoop(.ramp(from: from, to: to, seed: seed), duration: try positiveDuration(parts[2], flag: "--ramp"))
        }
        if findMaxQps, let slaP99 {
            var search = SLASearch(slaP99MS: slaP99)
            if let duration { search.minDuration = try positiveDuration(duration, flag: "--duration") }
            search.lightStep = lightStep
            return .findMaxQPS(search)
        }
        return .offlineOnly
    }

    func execute() async throws(InferbenchError) -> ExitStatus {
        if let target { return try await executeTarget(target) }
        let spec = try variant.models()[0]
        let scenario = try scenario()
        let windowSeconds = try positiveDuration(window, flag: "--window")
        let runID = RunID.make()
        let folder = try output.folder(default: "\(runID)-load")
        // A stop before the session exists (while the probe starts) is passed on when it does.
        let relay = StopRelay()
        let signals = Interrupt.install { relay.stop($0) }
        defer { signals.cancel() }
        let (launcher, _) = try pythonOptions.launcher(logDirectory: folder.logs)
        let lengths = try lengthPlan()
        let (probe, hello) = try await launcher.start(label: "probe")
        let resolved: String
        let budget: MemoryBudget?
        var lengthParameter: String? = nil
        do {
            resolved = try await BenchmarkRunner.preflight(
                models: [spec], device: variant.device ?? .auto, worker: probe, hello: hello, python: launcher.python)
            lengthParameter = try await checkLengths(spec, lengths, on: probe)
            budget = MemoryBudget.estimate(workers: workers * max(1, gpuCount), probePID: await probe.processID)
        } catch {
            await probe.shutdown()
            throw error
        }
        await probe.shutdown()
        if let reason = relay.reason {
            Console.note("\(reason == .terminate ? "terminated" : "interrupted") before the test started: nothing was measured")
            return reason.exitStatus
        }
        try checkMemory(budget)
        let daemon = try await startMPS(device: resolved)
        var served = launcher
        if let daemon { served.extraEnvironment.merge(daemon.environment) { _, new in new } }
        let status: ExitStatus
        do {
            status = try await execute(
                spec: spec, launcher: served, hello: hello, resolved: resolved, lengths: lengths, lengthParameter: lengthParameter,
                scenario: scenario, window: windowSeconds, runID: runID, folder: folder, relay: relay, mps: daemon != nil)
        } catch {
            await daemon?.stop()
            throw error
        }
        await daemon?.stop()
        return status
    }

    /// `--mps`: a private MPS daemon the workers are clients of; nil without the flag. Refused
    /// (exit 64) off a GPU or where the driver's utilities are missing.
    func startMPS(device resolved: String) async throws(InferbenchError) -> MPSDaemon? {
        guard mps else { return nil }
        guard resolved.hasPrefix("cuda") else { throw .badInput("--mps shares a GPU between workers: this test runs on \(resolved); drop --mps") }
        guard let control = MPSDaemon.locate() else {
            throw .badInput("--mps: nvidia-cuda-mps-control is not on PATH (it comes with the NVIDIA driver's utilities); drop --mps, or add it to PATH")
        }
        if !output.quiet { Console.note("starting a private MPS daemon (\(control)) for the workers") }
        return try await MPSDaemon.start(control: control)
    }

    /// The test itself, once the probe has checked the model and the machine.
    func execute(
        spec: ModelSpec, launcher: WorkerLauncher, hello: HelloResult, resolved: String, lengths: (plan: LengthPlan, warmup: ShapeWarmup, axis: LengthAxis)?,
        lengthParameter: String?, scenario: LoadTest.Scenario, window windowSeconds: Double, runID: String, folder: OutputFolder, relay: StopRelay,
        mps: Bool
    ) async throws(InferbenchError) -> ExitStatus {
        let compile = variant.compile?.first ?? .eager
        let precision = variant.precision?.first ?? .fp32
        let seed = variant.seed ?? 0
        let sets = try replicaSets(launcher: launcher, hello: hello, device: resolved)
        let sampler = output.sampler(onGPU: resolved.hasPrefix("cuda"))
        let quiet = output.quiet
        let served = Variant(compile: compile, precision: precision, batchSize: maxBatch, channelsLast: variant.channelsLast, dynamic: dynamic.flag)
        let buckets = try buckets()
        var sla: Double? = nil
        if case .findMaxQPS(let search) = scenario { sla = search.slaP99MS }
        var initial = RunResults(
            run: RunInfo(
                id: runID, startedAt: Date(), finishedAt: nil, status: .incomplete, command: ShellQuote.join(CommandLine.arguments), plan: nil,
                host: HostProbe.current(), inferbenchVersion: InferbenchInfo.version))
        initial.environments = [BenchmarkRunner.record(PythonEnvironmentSpec(name: "default", python: launcher.python), hello, device: resolved)]
        initial.load = LoadInfo(
            model: spec.description, variant: served, workers: sets.reduce(0) { $0 + $1.count }, maxBatch: maxBatch, maxDelayMS: maxDelay,
            maxQueue: maxQueue, windowS: windowSeconds, slaP99MS: sla, batchBuckets: buckets.sizes)
        let inFlight = try inFlightDepth(gpu: resolved.hasPrefix("cuda"))
        initial.load?.inFlight = inFlight
        initial.load?.payload = payload
        initial.load?.payloadFile = payloadFile
        if mps { initial.load?.mps = true }
        if let (plan, warmup, axis) = lengths {
            initial.load?.seqLen = plan.lengths.description
            initial.load?.lengthAxis = axis
            initial.load?.offlineLengths = OfflineLengths(warmup: warmup)
            initial.load?.padTo = plan.padding.description
            initial.load?.lengthBuckets = plan.buckets
            initial.load?.warmupShapes = warmup.description
            initial.load?.warmLengths = warmup.lengths(plan)
        }
        var test = LoadTest(
            model: spec, variant: served, seed: seed, replicaSets: sets, scenario: scenario, offline: offline, maxBatch: maxBatch,
            buckets: buckets, maxDelay: maxDelay / 1000, maxQueue: maxQueue, window: windowSeconds, telemetry: sampler,
            progress: { line in if !quiet { Console.note(line) } })
        test.workerStarts = workerStarts(gpu: resolved.hasPrefix("cuda"))
        if let (plan, warmup, _) = lengths, let lengthParameter { test.lengths = (plan, lengthParameter, warmup) }
        test.inFlight = inFlight
        test.payload = payload
        test.payloadFile = payloadFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let session = LoadSession(test: test, folder: folder, recorder: recording.recorder, sampler: sampler)
        relay.attach { session.stop($0) }
        let (outcome, details) = try await session.run(initial)
        Console.out(TerminalReport.summary(outcome.results, layout: output.layout))
        for death in details.workerDeaths { Console.note("worker died and was restarted: \(death)") }
        report(outcome, folder: folder, quiet: quiet)
        return outcome.status
    }

    var gpuCount: Int { batching.gpuCount }

    /// With `--seq-len`, `--image-size` or a trace's lengths: the model's length parameter
    /// (from the worker's catalogue), after the worker has accepted the longest length for it;
    /// bad input before any worker loads.
    func checkLengths(
        _ spec: ModelSpec, _ lengths: (plan: LengthPlan, warmup: ShapeWarmup, axis: LengthAxis)?, on probe: Worker
    ) async throws(InferbenchError) -> String? {
        guard let (plan, _, axis) = lengths else { return nil }
        let flag = trace != nil && seqLen == nil && imageSize == nil ? "--trace \(trace!)" : "\(axis.flag) \(seqLen ?? imageSize ?? "")"
        let zoo: [ZooEntry]
        do { zoo = try await probe.models() } catch { throw .worker("the worker could not list its models: \(WorkerError.describe(error))") }
        let parameter = zoo.first(where: { $0.name == spec.name })?.length
        guard let parameter, parameter == axis.rawValue else {
            let with = zoo.filter { $0.length == axis.rawValue }.map(\.name).joined(separator: ", ")
            let other = parameter.flatMap(LengthAxis.init(rawValue:)).map { " (its varying input is set with \($0.flag))" } ?? ""
            let what = axis == .seq ? "sequence length" : "image size"
            throw .badInput("\(flag): \(spec.name) has no \(what) to vary\(other); drop the flag, or serve a model with one (\(with))")
        }
        var longest = spec
        longest.params[parameter] = String(plan.buckets.last!)
        do { try await probe.check(model: longest) } catch {
            if case .reply(let payload) = error, payload.kind == .badRequest {
                throw .badInput("\(flag): the longest padded length \(plan.buckets.last!) is refused by \(spec.name): \(payload.message)")
            }
            throw .worker("the worker could not check \(flag) for \(spec.name): \(WorkerError.describe(error))")
        }
        for size in plan.buckets where axis == .size && size != plan.buckets.last {
            longest.params[parameter] = String(size)
            do { try await probe.check(model: longest) } catch {
                if case .reply(let payload) = error, payload.kind == .badRequest {
                    throw .badInput("\(flag): size \(size) is refused by \(spec.name): \(payload.message)")
                }
                throw .worker("the worker could not check \(flag) for \(spec.name): \(WorkerError.describe(error))")
            }
        }
        return parameter
    }

    /// Refuses workers that would not fit in memory (unless --force); warns when they barely do.
    func checkMemory(_ budget: MemoryBudget?) throws(InferbenchError) {
        guard let budget else { return }
        switch budget.verdict {
        case .fits: return
        case .tight: if !output.quiet { Console.note("warning: memory is tight: \(budget.summary)") }
        case .exceeds:
            if force {
                Console.note("warning: \(budget.summary); starting anyway (--force)")
            } else {
                throw .badInput("--workers \(workers): \(budget.summary); give fewer workers, or --force to start them anyway")
            }
        }
    }

    func replicaSets(launcher: WorkerLauncher, hello: HelloResult, device resolved: String) throws(InferbenchError) -> [LoadTest.ReplicaSet] {
        try batching.replicaSets(launcher: launcher, hello: hello, device: resolved)
    }
}
