import ArgumentParser
import Foundation
import InferbenchCore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the benchmark matrix (a default plan fitted to the hardware when no model is given).")

    @Argument(help: "A YAML plan file (see docs/cli.md), or a results.json / run folder to run its recorded plan again; flags override it.")
    var planFile: String?

    @Option(
        name: .long, parsing: .singleValue, help: "A named Python environment, NAME=PYTHON; repeat to compare environments (e.g. PyTorch versions) in one run.")
    var env: [String] = []

    @OptionGroup var variant: VariantOptions

    @Option(name: .long, help: "Batch sizes, e.g. 1,8,32 (default: 1).")
    var batch: String?

    @Option(
        name: .long,
        help:
            "Sequence lengths to sweep like batch sizes, e.g. 64,128,256,512, for models with a length axis (bert-base, bert-tiny, synthetic); sets each model's seq."
    )
    var seq: String?

    @Option(
        name: .long,
        help:
            "How compiled variants treat shapes: auto (PyTorch's default), static (a graph per shape), dynamic (one graph); comma-separate to compare (default: static,dynamic with several --seq lengths, else auto; --dynamic is dynamic).",
        transform: CommaList.transform("--shapes"))
    var shapes: [GraphShapes]?

    @OptionGroup var pythonOptions: PythonOptions
    @OptionGroup var measurement: MeasurementOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var recording: RecordingOptions  // results store (Options.swift)

    func run() async throws {
        let status: ExitStatus
        do {
            status = try await execute()
        } catch {
            throw failure(error)
        }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    static func batches(_ text: String) throws(InferbenchError) -> [Int] {
        try wholeNumbers(text, flag: "--batch", what: "a batch size", example: "1,8,32")
    }

    /// A comma-separated list of whole numbers ≥ 1 (`--batch`, `--seq`).
    static func wholeNumbers(_ text: String, flag: String, what: String, example: String) throws(InferbenchError) -> [Int] {
        var values: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let b = Int(item.trimmingCharacters(in: .whitespaces)), b >= 1 else {
                throw .badInput("\(flag) \(item): \(what) is a whole number ≥ 1, e.g. \(flag) \(example)")
            }
            values.append(b)
        }
        return values
    }

    /// The plan: the file's (read once by the caller), or the default for the hardware, with the
    /// command line's flags on top.
    func makePlan(file: PlanFile?, hasCUDA: Bool) throws(InferbenchError) -> Plan {
        var plan: Plan
        let models = try variant.models()
        if let file {
            plan = file.plan
            if !models.isEmpty { plan.models = models }
        } else if models.isEmpty {
            plan = DefaultPlans.forHardware(hasCUDA: hasCUDA)
        } else {
            plan = Plan(models: models)
        }
        if let compile = variant.compile { plan.compile = compile }
        if let precision = variant.precision { plan.precision = precision }
        if let batch { plan.batch = try Self.batches(batch) }
        if let seq { plan.seq = try Self.wholeNumbers(seq, flag: "--seq", what: "a sequence length", example: "64,128,256,512") }
        if let shapes {
            if measurement.dynamic { throw .badInput("--dynamic and --shapes: give one (--dynamic is --shapes dynamic)") }
            plan.shapes = shapes
        }
        if let device = variant.device { plan.device = device }
        if let seed = variant.seed { plan.seed = seed }
        if variant.channelsLast { plan.channelsLast = true }
        measurement.apply(to: &plan)
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
        // Validate everything that needs no worker before starting one.
        let file = try planFile.map { (path: String) throws(InferbenchError) in try PlanFile.load(path: path) }
        let plan = try makePlan(file: file, hasCUDA: false)
        let runID = RunID.make()
        let folder = try output.folder(default: runID)
        var (launcher, _) = try pythonOptions.launcher(logDirectory: folder.logs)
        let environments = try environmentSpecs(file: file, default: launcher)
        let cpus = CPUPinning.allowedCPUs()
        launcher.extraEnvironment["INFERBENCH_THREADS"] = String(plan.threads ?? CPUPinning.defaultThreads(cpus: cpus.count))
        if plan.pin { launcher.pinning = CPUPinning(cpus: cpus, workers: max(1, plan.compile.count * environments.count)) }
        let printer = ProgressPrinter(quiet: output.quiet)
        var runner = BenchmarkRunner(
            plan: plan,
            environments: environments.map { spec in
                var l = launcher
                l.python = spec.python
                return .init(spec: spec, starter: l)
            },
            progress: printer.handle)
        if variant.model.isEmpty && file == nil {
            // The default plan fits the hardware the first worker finds: no separate probe.
            let (quiet, command) = (output.quiet, self)
            runner.choosePlan = { env in
                let gpu = env.cudaAvailable && plan.device != .cpu
                let chosen = (try? command.makePlan(file: nil, hasCUDA: gpu)) ?? plan
                if !quiet { Console.note(DefaultPlans.announcement(chosen, gpu: gpu)) }
                return chosen
            }
        }
        runner.telemetry = output.sampler(onGPU: false)
        if !output.quiet { runner.note = { Console.note($0) } }
        let session = RunSession(runner: runner, folder: folder, recorder: recording.recorder)
        let info = RunInfo(
            id: runID, startedAt: Date(), finishedAt: nil, status: .incomplete, command: ShellQuote.join(CommandLine.arguments), plan: plan,
            host: HostProbe.current(), inferbenchVersion: InferbenchInfo.version)
        let signals = Interrupt.install { session.stop($0) }
        defer { signals.cancel() }
        let outcome = try await session.run(info: info)
        Console.clearStatus()
        Console.out(TerminalReport.render(outcome.results, layout: output.layout))
        report(outcome, folder: folder, quiet: output.quiet)
        return outcome.status
    }
}

/// The closing lines of `run` and `load`: where the files are, then what went wrong.
func report(_ outcome: RunSession.Outcome, folder: OutputFolder, quiet: Bool) {
    if !quiet, folder.saved != nil { Console.note("Results: \(folder.resultsURL.path)") }
    if !quiet, !outcome.reports.isEmpty { Console.note("Report: \(outcome.reports.map(\.path).joined(separator: ", "))") }
    for line in outcome.problems { Console.error(line) }
}

/// How long and how to measure each cell: the plan's stopping rule and sweep order.
struct MeasurementOptions: ParsableArguments {
    @Option(name: .long, help: "Minimum seconds of measurement per cell (default: 1).")
    var minTime: Double?
    @Option(name: .long, help: "Maximum seconds of measurement per cell; the CI target is reported as not met when it runs out (default: 10).")
    var maxTime: Double?
    @Option(name: .long, help: "Target half-width of the median's 95% interval, as a fraction, 0.01 = ±1% (default: 0.01).")
    var targetCI: Double?
    @Option(name: .long, help: "Fixed number of warm-up iterations (default: until chunk medians stabilise).")
    var warmup: Int?
    @Option(name: .long, help: "Fixed number of measured iterations (overrides the adaptive rule).")
    var iterations: Int?
    @Option(
        name: .long, help: "Repeat each cell's whole measurement N times (in interleaved rounds); the per-repeat medians show run-to-run spread (default: 1).")
    var repeats: Int?
    @Option(
        name: .long,
        help:
            "Fresh worker processes per cell, interleaved with the other variants' processes: auto (2 on a GPU, up to 5 while they disagree; 1 on a CPU) or 1 to 20 (default: auto)."
    )
    var processes: String?
    @Flag(inversion: .prefixedNo, help: "Pin each worker process to its own CPUs, away from inferbench's threads (default: no pinning).")
    var pin: Bool?
    @Option(name: .long, help: "torch intra-op threads per worker (default: the CPUs the worker may use, less one on machines of up to 8).")
    var threads: Int?
    @Flag(name: .long, help: "Measure cells one after another instead of interleaving compared variants in rounds.")
    var noInterleave = false
    @Flag(
        name: .long,
        help:
            "Give every batch size fresh workers and a fresh compile, instead of keeping each variant loaded across the batch sweep (where torch.compile recompiles once, then reuses a dynamic graph)."
    )
    var noBatchReuse = false
    @Flag(name: .long, help: "torch.compile(fullgraph=True): fail on graph breaks.")
    var fullgraph = false
    @Flag(name: .long, help: "torch.compile(dynamic=True).")
    var dynamic = false
    @Flag(name: .long, help: "Skip the output check against eager fp32.")
    var noVerify = false
    @Flag(name: .long, help: "Skip the back-to-back throughput measurement.")
    var noThroughput = false
    @Option(
        name: .long,
        help:
            "Keep the AOTInductor package each aot-inductor cell builds in this folder (<cell>.pt2, with its example inputs in <cell>.pt2.inputs.pt), to deploy or to run again as --model FILE.pt2:inputs=FILE.pt2.inputs.pt."
    )
    var keepPackages: String?

    func validate() throws {
        if let iterations, iterations < 1 { throw ValidationError("--iterations \(iterations): give at least 1") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup \(warmup): give 0 or more") }
        if let t = targetCI, !(t > 0 && t < 1) { throw ValidationError("--target-ci \(t): give a fraction between 0 and 1, e.g. 0.01 for ±1%") }
        if let minTime, !(minTime >= 0 && minTime.isFinite) { throw ValidationError("--min-time \(minTime): give seconds ≥ 0") }
        if let maxTime, !(maxTime > 0 && maxTime.isFinite) { throw ValidationError("--max-time \(maxTime): give seconds > 0") }
        if let minTime, let maxTime, minTime > maxTime {
            throw ValidationError("--min-time \(minTime) is above --max-time \(maxTime): the minimum cannot exceed the maximum")
        }
        if let repeats, !(1...100).contains(repeats) { throw ValidationError("--repeats \(repeats): give a number from 1 to 100") }
        if let processes { do { _ = try ProcessCount(parsing: processes) } catch { throw ValidationError(error.description) } }
        if let threads, threads < 1 { throw ValidationError("--threads \(threads): give a number of threads ≥ 1") }
    }

    func apply(to plan: inout Plan) {
        if let repeats { plan.repeats = repeats }
        if let processes, let count = try? ProcessCount(parsing: processes) { plan.processes = count }
        if let pin { plan.pin = pin }
        if let threads { plan.threads = threads }
        if fullgraph { plan.fullgraph = true }
        if dynamic { plan.dynamic = true }
        if noVerify { plan.verify = false }
        if noThroughput { plan.throughput = false }
        if let keepPackages { plan.packageDir = URL(fileURLWithPath: keepPackages).standardizedFileURL.path }
        if noInterleave { plan.interleave = false }
        if noBatchReuse { plan.batchReuse = false }
        if let minTime { plan.stopping.minTime = minTime }
        if let maxTime { plan.stopping.maxTime = maxTime; plan.stopping.minTime = min(plan.stopping.minTime, maxTime) }
        if let targetCI { plan.stopping.targetCI = targetCI }
        if let warmup { plan.stopping.warmupIterations = warmup }
        if let iterations { plan.stopping.iterations = iterations; plan.stopping.minIterations = min(plan.stopping.minIterations, iterations) }
    }
}
