import ArgumentParser
import Foundation
import InferbenchCore

extension OIPEncoding: ExpressibleByArgument {}

/// `load --target`: the same scenarios against an inference server over the Open Inference
/// Protocol, in place of inferbench's own workers and batcher.
extension Load {
    /// Flags of the in-process path refused beside `--target` (the server decides what they
    /// would set), and the target's flags refused without it.
    func validateTarget() throws {
        guard let target else {
            let given = [
                modelName.map { _ in "--model-name" }, tensorEncoding.map { _ in "--tensor-encoding" }, requestTimeout.map { _ in "--request-timeout" },
                connections.map { _ in "--connections" },
            ].compactMap { $0 }
            if !given.isEmpty { throw ValidationError("\(given.joined(separator: ", ")) apply to a server: add --target http://HOST:PORT, or drop them") }
            return
        }
        let inProcess: [(Bool, String)] = [
            (!variant.model.isEmpty, "--model (name the server's model with --model-name)"), (variant.compile != nil, "--compile"),
            (variant.precision != nil, "--precision"), (variant.device != nil, "--device"), (variant.channelsLast, "--channels-last"),
            (offline, "--offline"), (gpus != nil, "--gpus"), (workers != 1, "--workers"), (mps, "--mps"), (payload == .device, "--payload device"),
            (seqLen != nil, "--seq-len"), (imageSize != nil, "--image-size"), (padTo != nil, "--pad-to"), (warmupShapes != nil, "--warmup-shapes"),
            (batchBuckets != nil, "--batch-buckets"), (inFlight != "auto", "--in-flight"), (force, "--force"),
            (processes.map { $0 != "1" && $0 != "auto" } ?? false, "--processes"),
        ]
        let refused = inProcess.filter(\.0).map(\.1)
        if !refused.isEmpty {
            throw ValidationError(
                "--target \(target): \(refused.joined(separator: ", ")) set up inferbench's own workers; the server runs the model as it is set up to: drop them"
            )
        }
        if let requestTimeout, !(requestTimeout > 0 && requestTimeout <= 3600) {
            throw ValidationError("--request-timeout \(requestTimeout): give seconds above 0, at most 3600")
        }
        if let connections, !(1...10_000).contains(connections) { throw ValidationError("--connections \(connections): give 1 to 10000") }
        if let trace, (try? TraceFile.load(path: trace).sequenceLengths) != nil {
            throw ValidationError("--trace \(trace) records lengths; a target's requests are of the model's one shape: use a trace of offsets only")
        }
    }

    /// Connects to the target, runs the scenario against it and reports, as `execute` does for
    /// inferbench's own workers.
    func executeTarget(_ url: String) async throws(InferbenchError) -> ExitStatus {
        let scenario = try scenario()
        let windowSeconds = try positiveDuration(window, flag: "--window")
        let runID = RunID.make()
        let folder = try output.folder(default: "\(runID)-load")
        let relay = StopRelay()
        let signals = Interrupt.install { relay.stop($0) }
        defer { signals.cancel() }
        var settings = OIPTarget.Settings(url: url, modelName: modelName)
        settings.encoding = tensorEncoding ?? .json
        settings.timeout = requestTimeout ?? 30
        settings.connections = connections ?? 256
        settings.seed = UInt64(variant.seed ?? 0)
        settings.payloadFile = payloadFile
        if !output.quiet { Console.note("connecting to \(url) (Open Inference Protocol, \(settings.encoding.rawValue) tensors)") }
        let target = try await OIPTarget.connect(settings)
        if let reason = relay.reason {
            await target.shutdown()
            Console.note("\(reason == .terminate ? "terminated" : "interrupted") before the test started: nothing was measured")
            return reason.exitStatus
        }
        let status: ExitStatus
        do {
            status = try await run(
                on: target, scenario: scenario, window: windowSeconds, runID: runID, folder: folder, relay: relay)
        } catch {
            await target.shutdown()
            throw error
        }
        await target.shutdown()
        return status
    }

    private func run(
        on target: OIPTarget, scenario: LoadTest.Scenario, window: Double, runID: String, folder: OutputFolder, relay: StopRelay
    ) async throws(InferbenchError) -> ExitStatus {
        let quiet = output.quiet
        let meta = target.metadata
        if !quiet {
            let server = target.server.map { "\($0.name) \($0.version)" } ?? "a server"
            Console.note(
                "\(server) serves \(meta.name): inputs \(meta.inputs.map { "\($0.name) \($0.datatype.rawValue) \($0.shape)" }.joined(separator: ", "))")
        }
        var sla: Double? = nil
        if case .findMaxQPS(let search) = scenario { sla = search.slaP99MS }
        var initial = RunResults(
            run: RunInfo(
                id: runID, startedAt: Date(), finishedAt: nil, status: .incomplete, command: ShellQuote.join(CommandLine.arguments), plan: nil,
                host: HostProbe.current(), inferbenchVersion: InferbenchInfo.version))
        initial.load = LoadInfo(model: meta.name, variant: nil, workers: 0, maxBatch: 0, maxDelayMS: 0, maxQueue: 0, windowS: window, slaP99MS: sla)
        initial.load?.payloadFile = payloadFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        initial.load?.target = TargetInfo(
            url: target.base, encoding: target.settings.encoding, server: target.server?.name, serverVersion: target.server?.version, inputs: meta.inputs,
            outputs: meta.outputs, connections: target.settings.connections, timeoutS: target.settings.timeout)
        let sampler = output.sampler(onGPU: false)
        var test = LoadTest(
            model: ModelSpec(name: meta.name), variant: Variant(compile: .eager, precision: .fp32, batchSize: 1), seed: variant.seed ?? 0,
            replicaSets: [], scenario: scenario, offline: false, maxBatch: 1, maxDelay: 0, maxQueue: 0, window: window, telemetry: sampler,
            progress: { line in if !quiet { Console.note(line) } })
        test.target = target
        let session = LoadSession(test: test, folder: folder, recorder: recording.recorder, sampler: sampler)
        relay.attach { session.stop($0) }
        let (outcome, _) = try await session.run(initial)
        Console.out(TerminalReport.summary(outcome.results, layout: output.layout))
        for (kind, why) in target.problems.sorted(by: { $0.key < $1.key }) { Console.note("first \(kind.rawValue) error: \(why)") }
        report(outcome, folder: folder, quiet: quiet)
        return outcome.status
    }
}
