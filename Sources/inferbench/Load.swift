import ArgumentParser
import Foundation
import InferbenchCore

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load and stress tests: open and closed loops through a dynamic batcher, max QPS under a P99 SLA, soak.")

    @OptionGroup var variant: VariantOptions
    @OptionGroup var pythonOptions: PythonOptions

    @Option(name: .long, help: "Open loop at this many requests per second (at most 1000000).")
    var qps: Double?
    @Option(name: .long, help: "poisson, constant or gamma arrivals for --qps.")
    var arrival: ArrivalProcess = .poisson
    @Option(
        name: .long,
        help: "Gamma shape of --arrival gamma: 1 is Poisson, below 1 burstier (gaps' CV = 1/sqrt(B)), above 1 more even (default 1).")
    var burstiness: Double?
    @Option(name: .long, help: "Replay recorded send offsets open-loop: a CSV (offset_s) or JSON-lines ({\"offset_s\": S}) file, one request a line.")
    var trace: String?
    @Option(name: .long, help: "Closed loop with N requests in flight; a list sweeps, e.g. 1,2,4,8.")
    var concurrency: String?
    @Option(name: .long, help: "Ramp FROM:TO:DURATION in requests per second, e.g. 0:500:30s.")
    var ramp: String?
    @Flag(
        name: .long,
        help: "Search for the highest Poisson rate whose P99 stays under --sla-p99 at 99% confidence; the answer is an interval (highest pass, lowest fail).")
    var findMaxQps = false
    @Option(name: .long, help: "P99 latency bound in milliseconds for --find-max-qps.")
    var slaP99: Double?
    @Flag(
        name: .long,
        help:
            "With --find-max-qps: after the bracket, one more step at a quarter of its lower rate, for the latency at light load (whether the capacity keeps a margin to the SLA; recommend uses it)."
    )
    var lightStep = false
    @Flag(
        name: .long,
        help:
            "Measure offline throughput: all samples available, back to back at --max-batch, 5 rounds with an interval; alone, or first, before the scenario given."
    )
    var offline = false
    @Option(
        name: .long,
        help:
            "Fresh starts of all workers that --find-max-qps and --offline are measured on; the capacity is the union of their brackets: auto (2 on a GPU, a 3rd when their brackets share no rate; 1 on a CPU) or 1 to 20 (default: auto)."
    )
    var processes: String?

    @Option(
        name: .long,
        help:
            "Duration of each step: 30s, 10m, 2h or seconds (default 30s; for --find-max-qps, at least 10 s and 1000 requests a step, and never under the 459 requests the SLA rule needs)."
    )
    var duration: String?
    @Option(name: .long, help: "Window for per-window figures in long runs.")
    var window: String = "10s"
    @OptionGroup var batching: BatchingOptions
    @Option(
        name: .long,
        help:
            "Per-request sequence lengths for a text model (bert's seq): N, LOW:HIGH (uniform), lognormal:median=M,sigma=S,max=X[,min=Y], or file:PATH (one length a line, drawn at random); seeded by --seed."
    )
    var seqLen: String?
    @Option(
        name: .long,
        help:
            "Per-request image sides for an image model (resnet's size), in pixels: one or a list such as 224,256,320, each request one of them at random (seeded by --seed); batches hold one size."
    )
    var imageSize: String?
    @Option(
        name: .long,
        help: "With --seq-len: pad each request's length up to a multiple of N, pow2, or none (batch only equal lengths) (default 64).")
    var padTo: String?
    @Option(
        name: .long,
        help:
            "With --seq-len or --image-size: the shapes the workers run before the test: all (every batch bucket at every padded length or size), none (only the loaded one: the first request of each shape pays its compile), or lengths L1,L2 (default all)."
    )
    var warmupShapes: String?
    @Option(
        name: .long,
        help:
            "How torch.compile treats shapes: auto (PyTorch's default: a static graph, then a dynamic one after the first recompile), false (a static graph per shape: warm-up compiles each bucket), or true (one dynamic graph); `run` spells true as the flag --dynamic."
    )
    var dynamic: DynamicShapes = .auto
    @Option(
        name: .long,
        help:
            "Where inputs come from: host (each request's bytes go through shared memory to the worker, which copies each batch to the device and its outputs back, timed as h2d and d2h) or device (inputs made on the device once: the compute-only ceiling)."
    )
    var payload: PayloadMode = .host
    @Option(
        name: .long,
        help:
            "A .npy file (a model with one input) or .npz file (an array per input, by name) of samples, [N, ...sample shape], that the requests carry in turn instead of samples the model's factory makes (--payload host)."
    )
    var payloadFile: String?
    @Flag(
        name: .long,
        help:
            "Run the workers as clients of a private CUDA MPS daemon (started and stopped by inferbench), so that several workers on a GPU run kernels at once instead of taking turns."
    )
    var mps = false
    @Flag(name: .long, help: "Start the workers even when their estimated memory exceeds what the machine has free.")
    var force = false

    @Option(
        name: .long,
        help:
            "Load an inference server instead of inferbench's own workers: http://HOST:PORT of a server that speaks the Open Inference Protocol (KServe v2 REST: Triton, KServe, MLServer, inferbench serve)."
    )
    var target: String?
    @Option(name: .long, help: "With --target: the model to load (default: the one model the server serves).")
    var modelName: String?
    @Option(name: .long, help: "With --target: json (tensors as JSON numbers) or binary (the binary-tensor extension) (default: json).")
    var tensorEncoding: OIPEncoding?
    @Option(name: .long, help: "With --target: seconds before a request counts as a timeout (default: 30).")
    var requestTimeout: Double?
    @Option(name: .long, help: "With --target: most connections kept open to the server at once; requests beyond wait for one (default: 256).")
    var connections: Int?

    @OptionGroup var output: OutputOptions
    @OptionGroup var recording: RecordingOptions  // results store (Options.swift)

    // The batching flags, as the rest of load reads them.
    var maxBatch: Int { batching.maxBatch }
    var batchBuckets: String? { batching.batchBuckets }
    var maxDelay: Double { batching.maxDelay }
    var maxQueue: Int { batching.maxQueue }
    var inFlight: String { batching.inFlight }
    var workers: Int { batching.workers }
    var gpus: String? { batching.gpus }

    func validate() throws {
        try validateTarget()
        let scenarios = [qps != nil, concurrency != nil, ramp != nil, findMaxQps, trace != nil].filter { $0 }.count
        if scenarios == 0 && !offline {
            throw ValidationError(
                "choose a scenario: --qps R, --concurrency N[,N...], --ramp FROM:TO:DURATION, --find-max-qps --sla-p99 MS, --trace FILE, or --offline")
        }
        if scenarios > 1 { throw ValidationError("give one of --qps, --concurrency, --ramp, --find-max-qps, --trace") }
        if let burstiness {
            guard arrival == .gamma, qps != nil else {
                throw ValidationError("--burstiness is the shape of --arrival gamma: add --qps R --arrival gamma, or drop it")
            }
            guard burstiness > 0, burstiness.isFinite, burstiness <= 1000 else {
                throw ValidationError("--burstiness \(burstiness): give a shape above 0 and at most 1000 (1 is Poisson, below 1 burstier)")
            }
        }
        if findMaxQps && slaP99 == nil { throw ValidationError("--find-max-qps needs --sla-p99 MS") }
        if lightStep && !findMaxQps { throw ValidationError("--light-step is a step of --find-max-qps: add --find-max-qps, or drop --light-step") }
        if slaP99 != nil && !findMaxQps { throw ValidationError("--sla-p99 is the bound of --find-max-qps: add --find-max-qps, or drop --sla-p99") }
        if let slaP99, !(slaP99 > 0 && slaP99.isFinite) { throw ValidationError("--sla-p99 \(slaP99): give milliseconds > 0") }
        if let qps, !(qps > 0) { throw ValidationError("--qps \(qps): give a rate > 0 requests per second") }
        if let qps, let refusal = ArrivalSchedule.refusal(rate: qps, flag: "--qps") { throw ValidationError(refusal) }
        do {
            _ = try lengthPlan()
        } catch { throw ValidationError(error.description) }
        if let payloadFile { try checkPayloadFile(payloadFile) }
        do { _ = try inFlightDepth(gpu: true) } catch { throw ValidationError(error.description) }
        if let processes {
            let count: ProcessCount
            do { count = try ProcessCount(parsing: processes) } catch { throw ValidationError(error.description) }
            if count != .fixed(1), count != .auto, !(findMaxQps || offline) {
                throw ValidationError("--processes \(processes) applies to --find-max-qps and --offline: drop it, or give 1")
            }
        }
        do {
            let models = try variant.models()
            if target == nil, models.count != 1 { throw InferbenchError.badInput("load serves one model: give one --model, e.g. --model resnet50") }
            if (variant.compile?.count ?? 1) != 1 || (variant.precision?.count ?? 1) != 1 {
                throw InferbenchError.badInput("load takes one --compile mode and one --precision")
            }
            _ = try scenario()
            _ = try positiveDuration(window, flag: "--window")
        } catch let error as InferbenchError { throw ValidationError(error.description) }
    }

    /// `--seq-len` (or the lengths a `--trace` records, or `--image-size`), `--pad-to` and
    /// `--warmup-shapes`, checked together; nil without lengths. Refuses a warm-up of more than
    /// ``ShapeWarmup/mostShapes`` shapes, and reads the buckets.
    func lengthPlan() throws(InferbenchError) -> (plan: LengthPlan, warmup: ShapeWarmup, axis: LengthAxis)? {
        let buckets = try buckets()
        guard let (lengths, axis) = try requestLengths() else {
            if padTo != nil || warmupShapes != nil {
                throw .badInput("--pad-to and --warmup-shapes shape the lengths of --seq-len: add --seq-len (e.g. 32:512), or drop them")
            }
            return nil
        }
        if axis == .size, padTo != nil {
            throw .badInput("--pad-to pads sequence lengths; images are batched by equal --image-size: drop --pad-to")
        }
        let plan = LengthPlan(lengths: lengths, padding: axis == .size ? .none : try padTo.map(LengthPadding.parse) ?? .multiple(64))
        let warmup = try warmupShapes.map { (w: String) throws(InferbenchError) in try ShapeWarmup.parse(w, plan: plan) } ?? .all
        let shapes = warmup.lengths(plan).count * buckets.sizes.count
        if shapes > ShapeWarmup.mostShapes {
            throw .badInput(
                "\(axis.flag) \(lengths) --pad-to \(plan.padding): the warm-up would run \(shapes) shapes (\(plan.buckets.count) lengths × \(buckets.sizes.count) batch buckets), over \(ShapeWarmup.mostShapes); pad coarser (--pad-to 64), or give --warmup-shapes none or a few lengths"
            )
        }
        return (plan, warmup, axis)
    }

    /// Where each request's length comes from: a trace's own, `--seq-len` or `--image-size`
    /// (one of them: two are bad input); nil for one shape.
    func requestLengths() throws(InferbenchError) -> (SequenceLengths, LengthAxis)? {
        let recorded = try trace.flatMap { (t: String) throws(InferbenchError) in try TraceFile.load(path: t).sequenceLengths }
        let given = [recorded != nil ? "--trace \(trace!) (its lengths)" : nil, seqLen.map { _ in "--seq-len" }, imageSize.map { _ in "--image-size" }]
            .compactMap { $0 }
        if given.count > 1 { throw .badInput("\(given.joined(separator: " and ")): give each request's length one way; drop all but one") }
        if let recorded { return (recorded, .seq) }
        if let seqLen { return (try SequenceLengths.parse(seqLen), .seq) }
        if let imageSize { return (try SequenceLengths.parseSizes(imageSize), .size) }
        return nil
    }

    func buckets() throws(InferbenchError) -> BatchBuckets { try batching.buckets() }

    /// `--payload-file`: a readable .npy/.npz beside host payloads of one shape; what it holds is
    /// checked against the model by the first worker, before anything is measured (exit 64).
    func checkPayloadFile(_ file: String) throws {
        if payload == .device { throw ValidationError("--payload-file \(file): its samples travel from the host; drop --payload device") }
        if imageSize != nil { throw ValidationError("--payload-file \(file): a file holds one image size; drop --image-size") }
        guard [".npy", ".npz"].contains(where: { file.lowercased().hasSuffix($0) }) else {
            throw ValidationError("--payload-file \(file): give a .npy file (one input) or a .npz file (an array per input)")
        }
        guard FileManager.default.isReadableFile(atPath: file) else { throw ValidationError("--payload-file \(file): no such readable file") }
    }

    func inFlightDepth(gpu: Bool) throws(InferbenchError) -> Int {
        try batching.inFlightDepth(gpu: gpu, reduceOverhead: variant.compile?.first == .reduceOverhead)
    }

    /// Fresh starts of the workers: `auto` is 2 on a GPU, with a 3rd while the first two's
    /// capacity brackets share no rate; 1 on a CPU, where the between-process noise of a
    /// cloud GPU host does not arise.
    func workerStarts(gpu: Bool) -> (start: Int, most: Int) {
        guard findMaxQps || offline else { return (1, 1) }
        return ((try? ProcessCount(parsing: processes ?? "auto")) ?? .auto).range(gpu: gpu, autoMost: 3)
    }

    func run() async throws {
        let status: ExitStatus
        do { status = try await execute() } catch { throw failure(error) }
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

/// A duration flag that must be more than nothing (`--duration 0` would run an empty step).
func positiveDuration(_ text: String, flag: String) throws(InferbenchError) -> Double {
    let seconds = try parseDuration(text, flag: flag)
    guard seconds > 0, seconds.isFinite else { throw .badInput("\(flag) \(text): give a duration above zero, e.g. 30s") }
    return seconds
}

/// `load --dynamic`: torch.compile's `dynamic` argument, with PyTorch's default named.
enum DynamicShapes: String, ExpressibleByArgument, CaseIterable {
    case auto, `true`, `false`

    /// What the worker is sent: nil leaves PyTorch's default.
    var flag: Bool? {
        switch self {
        case .auto: return nil
        case .true: return true
        case .false: return false
        }
    }
}
