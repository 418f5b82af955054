import Foundation
import InferbenchCore

extension Load {
    func scenario() throws(InferbenchError) -> LoadTest.Scenario {
        let stepDuration = try duration.map { (d: String) throws(InferbenchError) in try parseDuration(d, flag: "--duration") } ?? 30
        if let qps {
            let schedule: ArrivalSchedule = arrival == "constant" ? .constant(qps: qps) : .poisson(qps: qps, seed: UInt64(seed))
            return .openLoop(schedule, duration: stepDuration)
        }
        if let concurrency {
            var levels: [Int] = []
            for item in concurrency.split(separator: ",") {
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
            return .openLoop(.ramp(from: from, to: to, seed: UInt64(seed)), duration: try parseDuration(parts[2], flag: "--ramp"))
        }
        if findMaxQps, let slaP99 {
            var search = SLASearch(slaP99MS: slaP99)
            if let duration { search.minDuration = try parseDuration(duration, flag: "--duration") }
            return .findMaxQPS(search)
        }
        return .offlineOnly
    }

    func execute() async throws(InferbenchError) -> ExitStatus {
        let spec = try ModelSpec(parsing: model)
        let compileModes: [CompileMode] = try Run.list(compile, flag: "--compile")
        let precisions: [Precision] = try Run.list(precision, flag: "--precision")
        guard compileModes.count == 1, precisions.count == 1 else { throw .badInput("load takes one --compile mode and one --precision") }
        let scenario = try scenario()
        let windowSeconds = try parseDuration(window, flag: "--window")
        let runID = RunID.make()
        let outDir = URL(fileURLWithPath: out ?? "results/\(runID)-load")
        do { try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true) } catch {
            throw .badInput("--out \(outDir.path): cannot create the folder (\(error.localizedDescription))")
        }
        let (launcher, _) = try pythonOptions.launcher(logDirectory: outDir.appending(path: "logs"))
        let (probe, hello) = try await launcher.start(label: "probe")
        let resolved: String
        do {
            resolved = try await BenchmarkRunner.preflight(
                models: [spec], device: try DeviceChoice(parsing: device), worker: probe, hello: hello, python: launcher.python)
        } catch {
            await probe.shutdown()
            throw error
        }
        await probe.shutdown()
        var sets: [LoadTest.ReplicaSet] = []
        if let gpus {
            for item in gpus.split(separator: ",") {
                guard let g = Int(item.trimmingCharacters(in: .whitespaces)), g >= 0, g < max(hello.env.gpus.count, 1) else {
                    throw .badInput("--gpus \(item): this machine has \(hello.env.gpus.count) GPU(s) visible to PyTorch")
                }
                var l = launcher
                l.extraEnvironment["CUDA_VISIBLE_DEVICES"] = String(g)
                sets.append(.init(label: "gpu\(g)", starter: l, device: "cuda:0", count: workers))
            }
        } else {
            sets.append(.init(label: resolved.replacingOccurrences(of: ":", with: ""), starter: launcher, device: resolved, count: workers))
        }
        let sampler = noTelemetry ? nil : TelemetrySampler(interval: .milliseconds(100))
        sampler?.start()
        defer { sampler?.stop() }
        let quiet = self.quiet
        let variant = Variant(compile: compileModes[0], precision: precisions[0], batchSize: maxBatch, channelsLast: channelsLast)
        var sla: Double? = nil
        if case .findMaxQPS(let search) = scenario { sla = search.slaP99MS }
        var results = RunResults(
            run: RunInfo(
                id: runID, startedAt: Date(), finishedAt: nil, status: .incomplete, command: CommandLine.arguments.joined(separator: " "), plan: nil,
                host: HostProbe.current(), inferbenchVersion: InferbenchInfo.version))
        results.environments = [BenchmarkRunner.record(PythonEnvironmentSpec(name: "default", python: launcher.python), hello, device: resolved)]
        results.load = LoadInfo(
            model: spec.description, variant: variant, workers: sets.reduce(0) { $0 + $1.count }, maxBatch: maxBatch, maxDelayMS: maxDelay,
            maxQueue: maxQueue, windowS: windowSeconds, slaP99MS: sla)
        let url = outDir.appending(path: "results.json")
        let recorder = recording.recorder
        let live = LoadRecorder(results, recorder: recorder, sampler: sampler, resultsURL: url)
        var test = LoadTest(
            model: spec, variant: variant, seed: seed, replicaSets: sets, scenario: scenario, offline: offline, maxBatch: maxBatch,
            maxDelay: maxDelay / 1000, maxQueue: maxQueue, window: windowSeconds, telemetry: sampler,
            progress: { line in if !quiet { Console.note(line) } })
        test.events = { live.handle($0) }
        let configured = test
        let task = Task { () throws(InferbenchError) -> LoadTest.Outcome in try await configured.run() }
        let interrupt = Interrupt.install { task.cancel() }
        defer { interrupt.cancel() }
        let outcome: LoadTest.Outcome
        do { outcome = try await task.value } catch { throw error as! InferbenchError }
        sampler?.stop()
        live.drain()
        results.run.finishedAt = Date()
        results.run.status = task.isCancelled ? .incomplete : .complete
        results.loadTests = outcome.steps
        results.load?.offlineThroughputPerS = outcome.offlineThroughput
        results.load?.bestQPS = outcome.bestQPS
        results.telemetry = sampler?.snapshot()
        do { try results.write(to: url) } catch { throw .internal("cannot write \(url.path): \(error)") }
        recorder.record(results, resultsPath: url.path)
        Console.out(TerminalReport.summary(results))
        for death in outcome.workerDeaths { Console.note("worker died and was restarted: \(death)") }
        if !quiet { Console.note("Results: \(url.path)") }
        do {
            let reports = try ReportFiles.write(results, formats: [.md, .html], to: outDir)
            if !quiet { Console.note("Report: \(reports.map(\.path).joined(separator: ", "))") }
        } catch { Console.error("\(error.description) (results.json is complete; rerun `inferbench report \(outDir.path)`)") }
        let errors = outcome.steps.reduce(0) { $0 + $1.errors }
        return errors > 0 ? .cellsFailed : .success
    }
}
