import Foundation

/// The canonical results document, schema `inferbench.results/v1` (docs/results-schema.json).
/// Field names are a contract: add fields freely, rename none without a new schema version.
public struct RunResults: Codable, Sendable {
    public static let schemaID = "inferbench.results/v1"

    public var schema: String = RunResults.schemaID
    public var run: RunInfo
    public var environments: [EnvironmentRecord]
    public var cells: [CellResult]
    public var comparisons: [Comparison]
    public var loadTests: [LoadTestResult]
    /// What `inferbench load` tested and how (absent for `run`).
    public var load: LoadInfo?
    /// The whole run's GPU and host samples, on the same monotonic clock as the cells' phases.
    public var telemetry: Timeline?

    public init(
        run: RunInfo, environments: [EnvironmentRecord] = [], cells: [CellResult] = [], comparisons: [Comparison] = [], loadTests: [LoadTestResult] = []
    ) {
        self.run = run
        self.environments = environments
        self.cells = cells
        self.comparisons = comparisons
        self.loadTests = loadTests
    }

    enum CodingKeys: String, CodingKey {
        case schema, run, environments, cells, comparisons, telemetry, load
        case loadTests = "load_tests"
    }

    /// Cells the run set out to measure: its plan's, in every environment, once the plan is
    /// known, so that a run killed after 2 of 8 cells reads 2/8, not 2/2.
    public var plannedCells: Int {
        guard let plan = run.plan else { return cells.count }
        return max(cells.count, plan.cells(environment: "").count * max(1, environments.count))
    }

    /// What wrote these results: `inferbench run` (cells) or `inferbench load` (steps).
    public enum Kind: String, Sendable {
        case run, load
    }

    /// The one test of which command wrote these results: a load test records what it
    /// served (`load`); older files without it are load tests when they hold steps only.
    public var kind: Kind { load != nil || (cells.isEmpty && !loadTests.isEmpty) ? .load : .run }
}

public struct HostInfo: Codable, Sendable, Equatable {
    public var hostname: String
    public var os: String
    public var cpu: String
    public var cores: Int
    public var memoryMB: Double

    enum CodingKeys: String, CodingKey {
        case hostname, os, cpu, cores
        case memoryMB = "memory_mb"
    }
}

public struct RunInfo: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case complete, incomplete }
    public var id: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: Status
    public var command: String
    public var plan: Plan?
    public var host: HostInfo
    public var inferbenchVersion: String

    public init(id: String, startedAt: Date, finishedAt: Date?, status: Status, command: String, plan: Plan?, host: HostInfo, inferbenchVersion: String) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.command = command
        self.plan = plan
        self.host = host
        self.inferbenchVersion = inferbenchVersion
    }

    enum CodingKeys: String, CodingKey {
        case id, status, command, plan, host
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case inferbenchVersion = "inferbench_version"
    }
}

public struct EnvironmentRecord: Codable, Sendable, Equatable {
    public struct GPU: Codable, Sendable, Equatable {
        public var name: String
        public var driver: String?
        public var memoryMB: Double?
        public var powerLimitW: Double?
        enum CodingKeys: String, CodingKey {
            case name, driver
            case memoryMB = "memory_mb"
            case powerLimitW = "power_limit_w"
        }
    }
    public var name: String
    public var python: String
    public var pythonVersion: String?
    public var torch: String?
    public var cuda: String?
    public var cudnn: String?
    public var triton: String?
    public var gpus: [GPU]
    public var device: String?
    /// torch's intra-op threads in the workers, and the threading variables they ran with
    /// (OMP_NUM_THREADS, MKL_NUM_THREADS …): on a CPU, a setting that changes every figure.
    public var threads: Int?
    public var threadEnvironment: [String: String]?

    enum CodingKeys: String, CodingKey {
        case name, python, torch, cuda, cudnn, triton, gpus, device, threads
        case threadEnvironment = "thread_environment"
        case pythonVersion = "python_version"
    }
}

public struct ColdStart: Codable, Sendable, Equatable {
    public var loadS: Double
    public var compileS: Double
    public var firstCallMS: Double
    /// Load, compile and first call: what a new replica waits before it serves, seconds.
    public var toReadyS: Double { loadS + compileS + firstCallMS / 1000 }
    public var breakevenIterations: Double?
    /// 95% interval of the break-even, from the speedup's interval.
    public var breakevenCI95: Interval?
    /// The break-even of a deployment at this batch size alone (it would pay the fresh compile,
    /// not the reuse of a graph an earlier batch size compiled).
    public var breakevenStandalone: Double?
    /// What the worker did around the timed loops: Python's GC (`disabled_in_timed_loops`) and
    /// Inductor's compile workers after the compile (`shut_down`, `none`, `unavailable`).
    public var gc: String?
    public var compileWorkers: String?
    /// Inductor's FX graph cache during the compile: "cold" (code generated), "warm" (served
    /// from the cache, as after a restart), "partial"; nil for eager or when unknown.
    public var compileCache: CompileCacheState?
    /// In a batch sweep, how this batch size was served by the variant loaded for an earlier
    /// one: "reused" (no new graph: eager, or a dynamic graph), "recompiled" (dynamo compiled
    /// a graph for it), "reexported" (a static AOTInductor package built again); nil for a
    /// fresh load, whose `load_s` and `compile_s` are the whole cold start.
    public var batchReuse: BatchReuse?

    enum CodingKeys: String, CodingKey {
        case compileCache = "compile_cache"
        case batchReuse = "batch_reuse"
        case loadS = "load_s"
        case compileS = "compile_s"
        case firstCallMS = "first_call_ms"
        case breakevenIterations = "breakeven_iterations"
        case breakevenCI95 = "breakeven_ci95"
        case breakevenStandalone = "breakeven_standalone"
        case gc
        case compileWorkers = "compile_workers"
    }
}

public struct MemoryFigures: Codable, Sendable, Equatable {
    public var peakAllocated: Double?
    public var peakReserved: Double?
    public var deviceUsed: Double?
    public var workerRSS: Double?
    /// Peaks of the load itself (build, compile, first call): the guide's "compile memory
    /// overhead". Host: the worker's and Inductor's compile subprocesses' RSS high-water mark.
    public var compilePeakAllocated: Double?
    public var compilePeakReserved: Double?
    public var compileRSSPeak: Double?

    enum CodingKeys: String, CodingKey {
        case peakAllocated = "peak_allocated"
        case peakReserved = "peak_reserved"
        case deviceUsed = "device_used"
        case workerRSS = "worker_rss"
        case compilePeakAllocated = "compile_peak_allocated"
        case compilePeakReserved = "compile_peak_reserved"
        case compileRSSPeak = "compile_rss_peak"
    }
}

public struct Accuracy: Codable, Sendable, Equatable {
    /// NaN (written "nan") when the variant's outputs were not finite.
    public var maxAbsErr: Double
    public var maxRelErr: Double
    public var cosine: Double
    public var withinTolerance: Bool

    enum CodingKeys: String, CodingKey {
        case cosine
        case maxAbsErr = "max_abs_err"
        case maxRelErr = "max_rel_err"
        case withinTolerance = "within_tolerance"
    }
}

public struct CompileStats: Codable, Sendable, Equatable {
    public var graphBreaks: Int
    public var recompiles: Int
    public var reasons: [String]

    enum CodingKeys: String, CodingKey {
        case recompiles, reasons
        case graphBreaks = "graph_breaks"
    }
}

public struct CellError: Codable, Sendable, Equatable {
    public var kind: ErrorKind
    public var message: String
}

/// Something a reader of a cell (or a load step) should know, with the remedy in its message.
public struct CellWarning: Codable, Sendable, Equatable {
    public var kind: WarningKind
    public var message: String

    public init(kind: WarningKind, message: String) {
        self.kind = kind
        self.message = message
    }
}

/// How measuring went: the clock used, warm-up and the stopping decision.
public struct MeasurementInfo: Codable, Sendable, Equatable {
    public var clock: ClockKind
    public var warmupIterations: Int
    public var warmupStable: Bool
    public var stopReason: MeasureStopReason
    public var measureSeconds: Double
    /// Median of (host time − device time): CPU launch and synchronize overhead per call.
    public var launchOverheadMS: Double?
    /// Latency from the host clock when the headline figures come from CUDA events.
    public var hostLatencyMS: LatencySummary?
    /// Median of each repeat (`--repeats`), to show run-to-run spread.
    public var repeatMediansMS: [Double]?
    /// Monotonic seconds at which measuring began and ended (aligns with telemetry).
    public var phaseStart: Double?
    public var phaseEnd: Double?
    /// [start, end] of each measured chunk (monotonic seconds); under interleaving the cell's own time.
    public var chunkWindows: [[Double]]?
    /// Iterations in each chunk: they split `samples_ns` by chunk, in order.
    public var chunkSizes: [Int]?
    /// Under interleaving, each chunk starts with one call that is not counted: the first call
    /// after another variant's process used the device. Their median (ms) shows what the
    /// switch costs; nil when nothing was discarded.
    public var switchCallsDiscarded: Int?
    public var switchCallMedianMS: Double?
    /// The worker processes that measured this cell, in order (see ``ProcessRecord``).
    public var processes: [ProcessRecord]?
    /// The round of its step each chunk ran in; with `interleave_group`, which chunks of two
    /// cells ran side by side (paired speedups).
    public var chunkRounds: [Int]?
    /// Cells with the same group were measured in alternating rounds, process for process.
    public var interleaveGroup: String?
    public var intervalMethod: IntervalMethod?
    /// Degrees of freedom behind the median's interval (few: few processes decide it).
    public var intervalDF: Double?
    /// The run's prior that moderated the between-process part of the median's interval
    /// (`interval_method` `cluster_bootstrap_moderated`; see ``VariancePrior``).
    public var intervalPrior: VariancePrior?
    /// Back-to-back throughput of each chunk (samples/s), process by process.
    public var throughputRates: [[Double]]?

    enum CodingKeys: String, CodingKey {
        case processes
        case chunkRounds = "chunk_rounds"
        case interleaveGroup = "interleave_group"
        case intervalMethod = "interval_method"
        case intervalDF = "interval_df"
        case intervalPrior = "interval_prior"
        case throughputRates = "throughput_rates"
        case switchCallsDiscarded = "switch_calls_discarded"
        case switchCallMedianMS = "switch_call_median_ms"
        case chunkWindows = "chunk_windows"
        case chunkSizes = "chunk_sizes"
        case clock
        case warmupIterations = "warmup_iterations"
        case warmupStable = "warmup_stable"
        case stopReason = "stop_reason"
        case measureSeconds = "measure_s"
        case launchOverheadMS = "launch_overhead_ms"
        case hostLatencyMS = "host_latency_ms"
        case repeatMediansMS = "repeat_medians_ms"
        case phaseStart = "phase_start"
        case phaseEnd = "phase_end"
    }
}

public struct CellResult: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case ok, failed, skipped }
    public var id: String
    public var model: String
    public var environment: String
    public var status: Status
    public var error: CellError?
    public var variant: Variant
    public var device: String?
    public var latencyMS: LatencySummary?
    public var throughputPerS: Double?
    public var throughputCI95: Interval?
    public var throughputSource: String?
    public var coldStart: ColdStart?
    public var memoryMB: MemoryFigures?
    public var accuracy: Accuracy?
    public var compileStats: CompileStats?
    public var parameters: Int?
    public var flopsPerSample: Double?
    public var achievedTFLOPS: Double?
    /// Iterative models (`sd15`): denoising steps per call, steps per second (it/s) and seconds
    /// per image, both from the median latency.
    public var stepsPerCall: Int?
    public var stepsPerS: Double?
    public var secondsPerImage: Double?
    public var measurement: MeasurementInfo?
    /// GPU and host figures over the measured phase.
    public var telemetry: TelemetryAggregate?
    public var warnings: [CellWarning]
    /// Raw per-iteration latencies in nanoseconds (for CSV and re-analysis).
    public var samplesNS: [Int64]?

    public init(spec: CellSpec, status: Status) {
        id = spec.id
        model = spec.model.description
        environment = spec.environment
        self.status = status
        variant = spec.variant
        warnings = []
    }

    enum CodingKeys: String, CodingKey {
        case id, model, environment, status, error, variant, device, accuracy, parameters, measurement, warnings, telemetry
        case latencyMS = "latency_ms"
        case throughputPerS = "throughput_per_s"
        case throughputCI95 = "throughput_ci95"
        case throughputSource = "throughput_source"
        case coldStart = "cold_start"
        case memoryMB = "memory_mb"
        case compileStats = "compile_stats"
        case flopsPerSample = "flops_per_sample"
        case achievedTFLOPS = "achieved_tflops"
        case stepsPerCall = "steps_per_call"
        case stepsPerS = "steps_per_s"
        case secondsPerImage = "seconds_per_image"
        case samplesNS = "samples_ns"
    }
}

public struct Comparison: Codable, Sendable, Equatable {
    public var baseline: String
    public var candidate: String
    public var metric: String
    public var ratio: Double
    public var ci95: Interval
    public var significant: Bool
    /// Whether the two cells were measured in alternating rounds of the same processes'
    /// lifetimes (the interval is then from paired rounds); false: measured apart, so the
    /// ratio also holds whatever changed between them.
    public var paired: Bool?
    /// The run's prior that moderated the between-process part of the interval, when one did
    /// (see ``VariancePrior``).
    public var intervalPrior: VariancePrior?

    enum CodingKeys: String, CodingKey {
        case baseline, candidate, metric, ratio, ci95, significant, paired
        case intervalPrior = "interval_prior"
    }
}

/// One load-test step (a rate, a concurrency level, a soak).
public struct LoadTestResult: Codable, Sendable {
    public struct Breakdown: Codable, Sendable, Equatable {
        /// Mean milliseconds from due time to dispatch (waiting for a worker or for the batch to fill).
        public var queue: Double?
        /// Mean IPC round trip beyond the worker's own time for the call.
        public var transport: Double?
        /// Mean device (or worker host) time of the batch: the model alone.
        public var compute: Double?
        /// With `--payload host`: mean copy of the batch's inputs to the device and of its
        /// outputs back; absent with inputs on the device.
        public var h2d: Double?
        public var d2h: Double?
        /// With `--target` and a server that keeps statistics: its own mean time per request
        /// (from receipt to response), and the queue and compute parts of it; the rest of the
        /// latency is the client's and the network's.
        public var server: Double?
        public var serverQueue: Double?
        public var serverCompute: Double?

        public init(queue: Double?, transport: Double?, compute: Double?, h2d: Double? = nil, d2h: Double? = nil) {
            (self.queue, self.transport, self.compute, self.h2d, self.d2h) = (queue, transport, compute, h2d, d2h)
        }

        enum CodingKeys: String, CodingKey {
            case queue, transport, compute, h2d, d2h, server
            case serverQueue = "server_queue"
            case serverCompute = "server_compute"
        }
    }

    public struct Window: Codable, Sendable, Equatable {
        /// Seconds from the start of the step.
        public var t: Double
        public var seconds: Double
        /// Requests completed in the window per second (achieved).
        public var qps: Double
        public var p50: Double?
        public var p99: Double?
        public var errors: Int
        public var gpuUtil: Double?
        public var powerW: Double?
        public var memUsedMB: Double?
        /// Requests due (open loop) or sent (closed loop) in the window, per second.
        public var offeredQPS: Double?
        /// Monotonic seconds, the clock of telemetry samples: [start, end).
        public var start: Double?
        public var end: Double?
        /// Host CPU utilization over the window, % of all cores.
        public var hostCPUUtil: Double?
        /// Recompiles set off by batches that completed in the window (compiled variants).
        public var recompiles: Int?

        public init(
            t: Double, seconds: Double, qps: Double, p50: Double?, p99: Double?, errors: Int, gpuUtil: Double? = nil, powerW: Double? = nil,
            memUsedMB: Double? = nil, offeredQPS: Double? = nil, start: Double? = nil, end: Double? = nil, hostCPUUtil: Double? = nil
        ) {
            self.t = t
            self.seconds = seconds
            self.qps = qps
            self.p50 = p50
            self.p99 = p99
            self.errors = errors
            self.gpuUtil = gpuUtil
            self.powerW = powerW
            self.memUsedMB = memUsedMB
            self.offeredQPS = offeredQPS
            self.start = start
            self.end = end
            self.hostCPUUtil = hostCPUUtil
        }

        enum CodingKeys: String, CodingKey {
            case t, seconds, qps, p50, p99, errors, start, end
            case gpuUtil = "gpu_util"
            case powerW = "power_w"
            case memUsedMB = "mem_used_mb"
            case offeredQPS = "offered_qps"
            case hostCPUUtil = "host_cpu_util"
            case recompiles
        }
    }

    /// Requests' lengths (`--seq-len`): what was asked for and what the workers ran.
    public struct Lengths: Codable, Sendable, Equatable {
        /// Mean tokens per request served, and mean tokens per request after padding.
        public var meanTokens: Double
        public var meanPaddedTokens: Double
        /// The longest request served.
        public var maxTokens: Int

        enum CodingKeys: String, CodingKey {
            case meanTokens = "mean_tokens"
            case meanPaddedTokens = "mean_padded_tokens"
            case maxTokens = "max_tokens"
        }
    }

    /// Batches that were their worker's first at their shape, and what their requests waited:
    /// a compile (or an eager first call) inside the latency of every request they carried.
    public struct ColdShapes: Codable, Sendable, Equatable {
        public var batches: Int
        public var requests: Int
        /// The shapes, `batch×length` (or `batch`), in the order they first ran.
        public var shapes: [String]
        public var p50MS: Double?
        public var maxMS: Double?

        enum CodingKeys: String, CodingKey {
            case batches, requests, shapes
            case p50MS = "p50_ms"
            case maxMS = "max_ms"
        }
    }

    public var scenario: String
    public var targetQPS: Double?
    public var achievedQPS: Double = 0
    public var concurrency: Int?
    public var sent = 0
    public var completed = 0
    public var late = 0
    public var dropped = 0
    public var errors = 0
    /// Failed and turned-away requests by why (``RequestFailure``'s names); absent when none.
    public var errorKinds: [String: Int]?
    public var latencyMS: LatencySummary?
    public var breakdownMS: Breakdown?
    /// Requests per batch, averaged over requests (`mean_batch_size`): a batch of 32 weighs
    /// 32 times as much as a batch of one, so it reads higher than the mean per batch.
    public var meanBatchSizePerRequest: Double?
    /// Requests per batch, averaged over the batches the workers ran.
    public var meanBatchSizePerBatch: Double?
    /// Samples the workers ran (each batch padded up to its bucket) ÷ requests they served:
    /// 1 when no batch was padded, 1.07 when 7% of the work was padding. With lengths it is
    /// tokens: batch × padded length summed over batches ÷ the requests' own tokens.
    public var paddingWaste: Double?
    /// With `--seq-len`: the requests' lengths.
    public var lengths: Lengths?
    /// Recompiles the step's batches set off (compiled variants), and dynamo's reasons, each
    /// once, the most frequent first (at most 10).
    public var recompiles: Int?
    public var recompileReasons: [String]?
    /// Batches at a shape their worker had not run before; absent when there were none.
    public var coldShapes: ColdShapes?
    public var durationS: Double = 0
    public var windows: [Window] = []
    public var telemetry: TelemetryAggregate?
    public var slaMet: Bool?
    public var stoppedEarly: Bool?
    /// `--find-max-qps`: the step's figures under the SLA rule (Load/Capacity.swift).
    public var sla: SLAFigures?
    public var warnings: [CellWarning] = []
    public var phaseStart: Double?
    public var phaseEnd: Double?
    /// A ramp's rate at its start and at its end, requests per second.
    public var rampQPS: [Double]?
    /// True on a step read back from the results store that was cut short (the process was
    /// killed): its windows are those recorded so far, its totals sum them, and it has no
    /// latency percentiles over the whole step.
    public var partial: Bool?
    /// Which fresh start of the workers ran the step (1, 2, …), when a test used several
    /// (`--processes`); absent with one.
    public var replicate: Int?

    public init(scenario: String) { self.scenario = scenario }

    enum CodingKeys: String, CodingKey {
        case scenario, concurrency, sent, completed, late, dropped, errors, windows, telemetry, warnings, sla
        case targetQPS = "target_qps"
        case achievedQPS = "achieved_qps"
        case errorKinds = "error_kinds"
        case latencyMS = "latency_ms"
        case breakdownMS = "breakdown_ms"
        // The key kept its name and meaning (per request) when per-batch figures came: results
        // written before read the same.
        case meanBatchSizePerRequest = "mean_batch_size"
        case meanBatchSizePerBatch = "mean_batch_size_per_batch"
        case paddingWaste = "padding_waste"
        case lengths, recompiles
        case recompileReasons = "recompile_reasons"
        case coldShapes = "cold_shapes"
        case durationS = "duration_s"
        case slaMet = "sla_met"
        case stoppedEarly = "stopped_early"
        case phaseStart = "phase_start"
        case phaseEnd = "phase_end"
        case rampQPS = "ramp_qps"
        case partial, replicate
    }
}

extension RunResults {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// Writes `results.json` atomically, so a reader never sees half a file; a full disk or
    /// a read-only folder throws and leaves the previous file as it was.
    public func write(to url: URL) throws(AtomicFile.Failure) {
        let data: Data
        do { data = try Self.encoder().encode(self) } catch {
            // Non-finite numbers are encoded as strings: only a bug gets here.
            throw AtomicFile.Failure(path: url.path, reason: "cannot encode the results (\(error))", code: 0)
        }
        try AtomicFile.write(data, to: url)
    }

    public static func read(from url: URL) throws -> RunResults {
        try decoder().decode(RunResults.self, from: Data(contentsOf: url))
    }
}
