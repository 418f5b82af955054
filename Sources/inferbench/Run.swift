import ArgumentParser
import Foundation
import InferbenchCore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the benchmark matrix (a default plan fitted to the hardware when no model is given).")

    @Argument(help: "A YAML plan file (see docs/cli.md); flags given on the command line override it.")
    var planFile: String?

    @Option(
        name: .long, parsing: .singleValue, help: "A named Python environment, NAME=PYTHON; repeat to compare environments (e.g. PyTorch versions) in one run.")
    var env: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help:
            "Model (zoo name with parameters, e.g. bert-base:seq=512; file.py:build_fn; or a .pt2 ExportedProgram / AOTInductor package, e.g. model.pt2:shape=1x3x224x224); repeat or comma-separate."
    )
    var model: [String] = []

    @Option(name: .long, help: "Compile modes: eager,default,reduce-overhead,max-autotune,max-autotune-no-cudagraphs,aot-inductor.")
    var compile: String?

    @Option(name: .long, help: "Precisions: fp32,tf32,fp16,bf16,amp-fp16,amp-bf16.")
    var precision: String?

    @Option(name: .long, help: "Batch sizes, e.g. 1,8,32.")
    var batch: String?

    @Option(name: .long, help: "auto, cpu, cuda or cuda:N.")
    var device: String?

    @OptionGroup var pythonOptions: PythonOptions

    @Option(name: .long, help: "Output folder (default: results/<time>-<id>).")
    var out: String?

    @Option(name: .long, help: "Minimum seconds of measurement per cell.")
    var minTime: Double?
    @Option(name: .long, help: "Maximum seconds of measurement per cell; the CI target is reported as not met when it runs out.")
    var maxTime: Double?
    @Option(name: .long, help: "Target half-width of the median's 95% interval, as a fraction (0.01 = ±1%).")
    var targetCI: Double?
    @Option(name: .long, help: "Fixed number of warm-up iterations (default: until chunk medians stabilise).")
    var warmup: Int?
    @Option(name: .long, help: "Fixed number of measured iterations (overrides the adaptive rule).")
    var iterations: Int?
    @Option(name: .long, help: "Repeat each cell's whole measurement N times (in interleaved rounds); the per-repeat medians show run-to-run spread.")
    var repeats: Int?
    @Flag(name: .long, help: "Measure cells one after another instead of interleaving compared variants in rounds.")
    var noInterleave = false
    @Flag(
        name: .long,
        help:
            "Give every batch size fresh workers and a fresh compile, instead of keeping each variant loaded across the batch sweep (where torch.compile recompiles once, then reuses a dynamic graph)."
    )
    var noBatchReuse = false
    @Option(name: .long, help: "Seed for weights and inputs.")
    var seed: Int?

    @Flag(name: .long, help: "Convert model and 4-D inputs to channels_last.")
    var channelsLast = false
    @Flag(name: .long, help: "torch.compile(fullgraph=True): fail on graph breaks.")
    var fullgraph = false
    @Flag(name: .long, help: "torch.compile(dynamic=True).")
    var dynamic = false
    @Flag(name: .long, help: "Skip the output check against eager fp32.")
    var noVerify = false
    @Flag(name: .long, help: "Skip the back-to-back throughput measurement.")
    var noThroughput = false
    @Flag(name: .long, help: "Do not sample GPU and host telemetry.")
    var noTelemetry = false
    @Option(name: .long, help: "Telemetry sampling interval in milliseconds.")
    var telemetryInterval: Int = 100
    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false
    @OptionGroup var recording: RecordingOptions  // results store (StoreOptions.swift)

    func validate() throws {
        if let iterations, iterations < 1 { throw ValidationError("--iterations \(iterations): give at least 1") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup \(warmup): give 0 or more") }
        if let t = targetCI, !(t > 0 && t < 1) { throw ValidationError("--target-ci \(t): give a fraction between 0 and 1, e.g. 0.01 for ±1%") }
        if let minTime, minTime < 0 { throw ValidationError("--min-time must be ≥ 0") }
        if let maxTime, maxTime <= 0 { throw ValidationError("--max-time must be > 0") }
        if let timeout = pythonOptions.timeout, timeout <= 0 { throw ValidationError("--timeout must be > 0 seconds") }
        if telemetryInterval < 10 { throw ValidationError("--telemetry-interval must be at least 10 ms") }
    }

    func run() async throws {
        let status: ExitStatus
        do {
            status = try await execute()
        } catch {
            throw failure(error)
        }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// Parses a comma-separated list of enum values, naming the valid ones on error.
    static func list<T: RawRepresentable & CaseIterable>(_ text: String, flag: String) throws(InferbenchError) -> [T] where T.RawValue == String {
        var values: [T] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let value = T(rawValue: item) else {
                let valid = T.allCases.map(\.rawValue)
                let near = suggestions(for: item, among: valid)
                throw .badInput("\(flag) \(item): not one of \(valid.joined(separator: ", "))" + (near.isEmpty ? "" : ". Did you mean \(near[0])?"))
            }
            values.append(value)
        }
        return values
    }

    static func batches(_ text: String) throws(InferbenchError) -> [Int] {
        var values: [Int] = []
        for item in text.split(separator: ",") {
            guard let b = Int(item.trimmingCharacters(in: .whitespaces)), b >= 1 else {
                throw .badInput("--batch \(item): a batch size is a whole number ≥ 1, e.g. --batch 1,8,32")
            }
            values.append(b)
        }
        return values
    }

    /// The plan: the file's (read once by the caller), or the default for the hardware, with the
    /// command line's flags on top.
    func makePlan(file: PlanFile?, hasCUDA: Bool) throws(InferbenchError) -> Plan {
        var plan: Plan
        var models: [ModelSpec] = []
        for text in model.flatMap({ $0.contains(".py:") ? [$0] : ModelSpec.splitList($0) }) {
            models.append(try ModelSpec(parsing: text))
        }
        if let file {
            plan = file.plan
            if !models.isEmpty { plan.models = models }
        } else if models.isEmpty {
            plan = DefaultPlans.forHardware(hasCUDA: hasCUDA)
        } else {
            plan = Plan(models: models)
        }
        if let compile { plan.compile = try Self.list(compile, flag: "--compile") }
        if let precision { plan.precision = try Self.list(precision, flag: "--precision") }
        if let batch { plan.batch = try Self.batches(batch) }
        if let device { plan.device = try DeviceChoice(parsing: device) }
        if let seed { plan.seed = seed }
        if let repeats { plan.repeats = repeats }
        if channelsLast { plan.channelsLast = true }
        if fullgraph { plan.fullgraph = true }
        if dynamic { plan.dynamic = true }
        if noVerify { plan.verify = false }
        if noThroughput { plan.throughput = false }
        if noInterleave { plan.interleave = false }
        if noBatchReuse { plan.batchReuse = false }
        if let minTime { plan.stopping.minTime = minTime }
        if let maxTime { plan.stopping.maxTime = maxTime; plan.stopping.minTime = min(plan.stopping.minTime, maxTime) }
        if let targetCI { plan.stopping.targetCI = targetCI }
        if let warmup { plan.stopping.warmupIterations = warmup }
        if let iterations { plan.stopping.iterations = iterations; plan.stopping.minIterations = min(plan.stopping.minIterations, iterations) }
        try plan.validate()
        return plan
    }

    /// `--env NAME=PYTHON` flags, else the plan file's environments, else the one Python found.
    func environmentSpecs(file: PlanFile?, default launcher: WorkerLauncher) throws(InferbenchError) -> [PythonEnvironmentSpec] {
        var specs: [PythonEnvironmentSpec] = []
        for item in env {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw .badInput("--env \(item): expected NAME=PYTHON, e.g. --env torch26=/opt/py26/bin/python")
            }
            specs.append(PythonEnvironmentSpec(name: parts[0], python: try PythonLocator.checked(parts[1], what: "--env \(parts[0])")))
        }
        if specs.isEmpty, let file {
            for spec in file.environments {
                specs.append(
                    PythonEnvironmentSpec(name: spec.name, python: try PythonLocator.checked(spec.python, what: "\(planFile!): environments: \(spec.name)")))
            }
        }
        if Set(specs.map(\.name)).count != specs.count { throw .badInput("--env: each environment needs its own name") }
        return specs.isEmpty ? [PythonEnvironmentSpec(name: "default", python: launcher.python)] : specs
    }

    func execute() async throws(InferbenchError) -> ExitStatus {
        // Validate what needs no worker before starting one.
        let file = try planFile.map { (path: String) throws(InferbenchError) in try PlanFile.load(path: path) }
        var plan = try makePlan(file: file, hasCUDA: false)
        let runID = RunID.make()
        let outDir = URL(fileURLWithPath: out ?? "results/\(runID)")
        do { try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true) } catch {
            throw .badInput("--out \(outDir.path): cannot create the folder (\(error.localizedDescription))")
        }
        let logs = outDir.appending(path: "logs")
        let (launcher, _) = try pythonOptions.launcher(logDirectory: logs)
        let environments = try environmentSpecs(file: file, default: launcher)
        if model.isEmpty && file == nil {
            let (probe, hello) = try await launcher.start(label: "probe")
            await probe.shutdown()
            plan = try makePlan(file: nil, hasCUDA: hello.env.cudaAvailable && device != "cpu")
            if !quiet {
                Console.note(
                    "No --model given: running the default plan for \(hello.env.cudaAvailable ? "a GPU" : "a CPU-only machine") (\(plan.models.map(\.description).joined(separator: ", ")); \(plan.compile.map(\.rawValue).joined(separator: ",")); batch \(plan.batch.map(String.init).joined(separator: ",")))"
                )
            }
        }
        let info = RunInfo(
            id: runID, startedAt: Date(), finishedAt: nil, status: .incomplete,
            command: CommandLine.arguments.joined(separator: " "), plan: plan, host: HostProbe.current(),
            inferbenchVersion: InferbenchInfo.version)
        let resultsURL = outDir.appending(path: "results.json")
        let printer = ProgressPrinter(quiet: quiet)
        let recorder = recording.recorder
        var runner = BenchmarkRunner(
            plan: plan,
            environments: environments.map { spec in
                var l = launcher
                l.python = spec.python
                return .init(spec: spec, starter: l)
            },
            progress: printer.handle,
            checkpoint: { results in
                do { try results.write(to: resultsURL) } catch { Console.error("cannot write \(resultsURL.path): \(error)") }
                recorder.record(results, resultsPath: resultsURL.path)
            })
        let sampler = noTelemetry ? nil : TelemetrySampler(interval: .milliseconds(telemetryInterval))
        if let reason = sampler?.unavailableReason, !quiet { Console.note("GPU telemetry off: \(reason)") }
        runner.telemetry = sampler
        let configured = runner
        let task = Task { () throws(InferbenchError) -> RunResults in try await configured.run(info: info) }
        let interrupt = Interrupt.install { task.cancel() }
        defer { interrupt.cancel() }
        let results: RunResults
        do { results = try await task.value } catch { throw error as! InferbenchError }
        Console.clearStatus()
        Console.out(TerminalReport.render(results))
        if !quiet { Console.note("Results: \(resultsURL.path)") }
        do {
            let reports = try ReportFiles.write(results, formats: [.md, .html], to: outDir)
            if !quiet { Console.note("Report: \(reports.map(\.path).joined(separator: ", "))") }
        } catch { Console.error("\(error.description) (results.json is complete; rerun `inferbench report \(outDir.path)`)") }
        if results.run.status == .incomplete { throw .interrupted("interrupted: finished cells were kept in \(resultsURL.path)") }
        let failed = results.cells.filter { $0.status != .ok }
        if !failed.isEmpty {
            let workerKinds: Set<String> = ["worker_crash", "timeout", "worker_start", "protocol"]
            if failed.count == results.cells.count, failed.allSatisfy({ workerKinds.contains($0.error?.kind ?? "") }) {
                throw .worker("every cell failed in its worker (\(failed.first?.error?.message ?? "")); see the logs in \(outDir.appending(path: "logs").path)")
            }
            Console.error("\(failed.count) of \(results.cells.count) cells failed; the others' results are in \(resultsURL.path)")
            return .cellsFailed
        }
        return .success
    }
}
