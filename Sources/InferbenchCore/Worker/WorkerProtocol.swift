import Foundation

/// The wire protocol spoken with `python -m inferbench_worker` (see docs/protocol.md).
///
/// One JSON object per line. The Python mirror is `python/inferbench_worker/protocol.py`.
public enum WorkerProtocol {
    public static let version = 2
}

/// An operation the worker understands.
public enum WorkerOp: String, Codable, Sendable {
    case hello, models, check, load, measure, infer, verify, memory, unload, shutdown, smoke
    case payloadOpen = "payload_open"
}

/// A request envelope; `Args` is the operation's argument object.
struct WorkerRequest<Args: Encodable>: Encodable {
    var id: Int
    var op: WorkerOp
    var args: Args
}

/// The empty object: the arguments of ops that take none, and the result of `unload` and `shutdown`.
struct NoArgs: Codable, Sendable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init() {}

    /// Accepts an object only: a reply whose result is not one does not answer this op.
    init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: AnyKey.self)
    }
}

/// A reply envelope. Exactly one of `result` and `error` is present. `id` is null only in the
/// reply to a line the worker could not read as a request, which this side never sends.
struct WorkerReply<Result: Decodable>: Decodable {
    var id: Int?
    var ok: Bool
    var result: Result?
    var error: WorkerErrorPayload?
}

/// The error object a worker replies with; the worker stays alive after it.
public struct WorkerErrorPayload: Codable, Sendable, Equatable, Error {
    public enum Kind: String, Codable, Sendable {
        case oom, compile, unsupported
        case badRequest = "bad_request"
        case missingDependency = "missing_dependency"
        case `internal`
    }
    public var kind: Kind
    public var message: String
    public var detail: String?

    public init(kind: Kind, message: String, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.detail = detail
    }
}

// MARK: - hello

public struct GPUInfo: Codable, Sendable, Equatable {
    public var index: Int
    public var name: String
    public var memoryMB: Double?
    public var capability: String?
    public var multiprocessors: Int?
    public var driver: String?
    public var powerLimitW: Double?

    enum CodingKeys: String, CodingKey {
        case index, name, capability, multiprocessors, driver
        case memoryMB = "memory_mb"
        case powerLimitW = "power_limit_w"
    }
}

/// The Python side of an environment, as `hello` reports it.
public struct WorkerEnvironment: Codable, Sendable, Equatable {
    public var python: String
    public var pythonExecutable: String?
    public var platform: String?
    public var torch: String?
    public var torchError: String?
    public var cuda: String?
    public var cudnn: String?
    public var triton: String?
    public var cudaAvailable: Bool
    public var gpus: [GPUInfo]
    public var cpu: String?
    public var cpuCount: Int?
    public var torchThreads: Int?
    /// `torch.get_num_interop_threads()`; nil without torch or from an older worker.
    public var torchInteropThreads: Int?
    /// The thread and pinning variables set in the worker's environment (OMP_NUM_THREADS,
    /// MKL_NUM_THREADS, INFERBENCH_CPUS, INFERBENCH_THREADS, ...), by name.
    public var threadEnv: [String: String]?
    /// The CPUs the worker may run on (its affinity mask), in order.
    public var cpuAffinity: [Int]?
    public var cxx: String?
    public var torchvision: String?
    public var transformers: String?
    public var diffusers: String?

    enum CodingKeys: String, CodingKey {
        case python, platform, torch, cuda, cudnn, triton, gpus, cpu, cxx, torchvision, transformers, diffusers
        case pythonExecutable = "python_executable"
        case torchError = "torch_error"
        case cudaAvailable = "cuda_available"
        case cpuCount = "cpu_count"
        case torchThreads = "torch_threads"
        case torchInteropThreads = "torch_interop_threads"
        case threadEnv = "thread_env"
        case cpuAffinity = "cpu_affinity"
    }
}

public struct HelloResult: Codable, Sendable {
    public var `protocol`: Int
    public var workerVersion: String
    public var pid: Int?
    public var env: WorkerEnvironment

    enum CodingKeys: String, CodingKey {
        case `protocol`, pid, env
        case workerVersion = "worker_version"
    }
}

// MARK: - models

public struct ZooEntry: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    public var params: [String: String]
    public var needs: [String]
    /// The parameter that may vary per request (`load --seq-len`), e.g. bert's `seq`.
    public var length: String?
}

// MARK: - check

/// Arguments of `check`: a model name and parameters, as `load` takes them.
struct CheckArgs: Codable, Sendable {
    var model: String
    var params: [String: String]
}

/// A model the worker's catalogue accepts: its name and every parameter, defaults merged.
public struct ModelCheck: Codable, Sendable, Equatable {
    public var model: String
    public var params: [String: String]
}

// MARK: - load

public struct LoadArgs: Codable, Sendable, Equatable {
    public var model: String
    public var params: [String: String]
    public var device: String
    public var precision: String
    public var compile: String
    public var batchSize: Int
    public var seed: Int
    public var channelsLast: Bool
    public var fullgraph: Bool
    public var dynamic: Bool?
    /// Serve this load with the variant already loaded, if only the batch size differs.
    public var reuse: Bool?
    /// compile=aot-inductor: keep the package built here (a .pt2), its example inputs beside it.
    public var packagePath: String?

    enum CodingKeys: String, CodingKey {
        case model, params, device, precision, compile, seed, fullgraph, dynamic, reuse
        case batchSize = "batch_size"
        case channelsLast = "channels_last"
        case packagePath = "package_path"
    }
}

public struct MemoryResult: Codable, Sendable, Equatable {
    public var peakAllocatedMB: Double?
    public var peakReservedMB: Double?
    public var deviceUsedMB: Double?
    public var rssMB: Double?

    enum CodingKeys: String, CodingKey {
        case peakAllocatedMB = "peak_allocated_mb"
        case peakReservedMB = "peak_reserved_mb"
        case deviceUsedMB = "device_used_mb"
        case rssMB = "rss_mb"
    }
}

public struct LoadResult: Codable, Sendable {
    public var loadS: Double
    public var compileS: Double
    public var firstCallMS: Double
    public var parameters: Int?
    public var flopsPerSample: Double?
    public var inputDesc: String?
    public var outputDesc: String?
    public var memory: MemoryResult?
    public var graphBreaks: Int?
    public var recompiles: Int?
    public var compileReasons: [String]?
    /// "cold", "warm" or "partial": whether Inductor's FX graph cache served the compile.
    public var compileCache: CompileCacheState?
    /// After a load with `reuse`: "reused", "recompiled" or "reexported"; nil for a fresh load.
    public var batchReuse: BatchReuse?
    /// Denoising steps (UNet calls) one call makes, for iterative models such as `sd15`; nil otherwise.
    public var stepsPerCall: Int?
    /// What the worker does about Python's garbage collector: "disabled_in_timed_loops".
    public var gc: String?
    /// Inductor's compile-worker pools after the load: "shut_down", "none" or "unavailable".
    public var compileWorkers: String?
    /// CUDA allocator peaks over the load (build, compile, first calls), MiB; nil on CPU. The
    /// counters are reset after them, so a later `memory` reply's peaks are warm-up and measurement only.
    public var compilePeakAllocatedMB: Double?
    public var compilePeakReservedMB: Double?
    /// Host high-water mark, MiB: the worker's own plus its largest finished child's (Inductor's compilers).
    public var compileRSSPeakMB: Double?

    enum CodingKeys: String, CodingKey {
        case compileCache = "compile_cache"
        case batchReuse = "batch_reuse"
        case stepsPerCall = "steps_per_call"
        case parameters, memory, recompiles, gc
        case compileWorkers = "compile_workers"
        case compilePeakAllocatedMB = "compile_peak_allocated_mb"
        case compilePeakReservedMB = "compile_peak_reserved_mb"
        case compileRSSPeakMB = "compile_rss_peak_mb"
        case loadS = "load_s"
        case compileS = "compile_s"
        case firstCallMS = "first_call_ms"
        case flopsPerSample = "flops_per_sample"
        case inputDesc = "input_desc"
        case outputDesc = "output_desc"
        case graphBreaks = "graph_breaks"
        case compileReasons = "compile_reasons"
    }
}

// MARK: - measure, infer, verify

public enum MeasureMode: String, Codable, Sendable {
    case latency, throughput
}

struct MeasureArgs: Codable, Sendable {
    var batchSize: Int
    var iterations: Int
    var mode: MeasureMode

    enum CodingKeys: String, CodingKey {
        case iterations, mode
        case batchSize = "batch_size"
    }
}

/// The worker's timing thread over one measure chunk, read before and after it (never per
/// iteration): the evidence for why one process measured slower than another. Counts are
/// deltas over the chunk; a field is nil where the worker's platform does not say.
public struct ProcessState: Codable, Sendable, Equatable {
    /// Involuntary context switches: the thread was preempted.
    public var nivcsw: Int?
    /// Voluntary context switches: the thread waited (sleep, I/O, a lock, a blocking CUDA sync).
    public var nvcsw: Int?
    /// Moves to another CPU (`se.nr_migrations`; nil where the kernel does not show it).
    public var migrations: Int?
    /// The CPU the thread was on at the end of the chunk.
    public var cpu: Int?
    /// Python garbage collections during the chunk (0: the collector is off in timed loops).
    public var gcCollections: Int?
    /// The thread's CPU time, seconds; well below `wallS` means it waited or was preempted.
    public var cpuTimeS: Double?
    public var wallS: Double?

    enum CodingKeys: String, CodingKey {
        case nivcsw, nvcsw, migrations, cpu
        case gcCollections = "gc_collections"
        case cpuTimeS = "cpu_time_s"
        case wallS = "wall_s"
    }
}

/// Per-iteration times of one latency chunk.
public struct LatencyChunk: Codable, Sendable {
    public var deviceNS: [Int64]?
    public var hostNS: [Int64]
    public var clock: ClockKind
    /// Recompiles since the load, cumulative (0 for eager): a value that grew during a chunk
    /// means the chunk paid for a compilation. Nothing reads it yet.
    public var recompiles: Int?
    /// The timing thread over this chunk; nil from an older worker.
    public var proc: ProcessState?

    enum CodingKeys: String, CodingKey {
        case clock, recompiles, proc
        case deviceNS = "device_ns"
        case hostNS = "host_ns"
    }
}

/// One back-to-back throughput chunk.
public struct ThroughputChunk: Codable, Sendable {
    public var totalNS: Int64
    public var iterations: Int
    /// Recompiles since the load, cumulative, as in ``LatencyChunk/recompiles``. Nothing reads it yet.
    public var recompiles: Int?
    /// The timing thread over this chunk, as in ``LatencyChunk/proc``; nil from an older worker.
    public var proc: ProcessState?

    enum CodingKeys: String, CodingKey {
        case iterations, recompiles, proc
        case totalNS = "total_ns"
    }
}

struct BatchArgs: Codable, Sendable {
    var batchSize: Int
    enum CodingKeys: String, CodingKey { case batchSize = "batch_size" }
}

/// `infer`'s arguments. `inFlight` (sent only when above 1) lets the worker launch this call
/// while up to `inFlight - 1` earlier ones still run; their replies may come back out of order.
struct InferArgs: Codable, Sendable {
    var batchSize: Int
    var inFlight: Int?
    /// Tokens per sample, for a model with a length axis (`ModelInfo.length`); nil: as loaded.
    var length: Int?
    /// The batch's inputs wait in a payload ring slot (`load --payload host`); nil: the worker's
    /// own inputs on the device.
    var payload: PayloadCall?
    enum CodingKeys: String, CodingKey {
        case batchSize = "batch_size"
        case inFlight = "in_flight"
        case length, payload
    }
}

public struct InferResult: Codable, Sendable {
    public var deviceNS: Int64?
    public var hostNS: Int64
    /// Recompiles this call set off and dynamo's reasons for them; nil when it compiled nothing.
    public var recompiles: Int?
    public var compileReasons: [String]?
    /// Set by the replica, not the worker: the call was the worker's first at its shape.
    public var coldShape = false
    /// With a payload: the copy of the batch's inputs to the device and of its outputs back
    /// (CUDA events on the call's stream; the host clock on a CPU), the bytes of outputs
    /// written to the ring, and the CRC-32 of the inputs as they arrived, when asked.
    public var h2dNS: Int64?
    public var d2hNS: Int64?
    public var outputBytes: Int?
    public var checksum: UInt32?

    public init(deviceNS: Int64?, hostNS: Int64, recompiles: Int? = nil, compileReasons: [String]? = nil) {
        self.deviceNS = deviceNS
        self.hostNS = hostNS
        self.recompiles = recompiles
        self.compileReasons = compileReasons
    }

    enum CodingKeys: String, CodingKey {
        case deviceNS = "device_ns"
        case hostNS = "host_ns"
        case recompiles, checksum
        case compileReasons = "compile_reasons"
        case h2dNS = "h2d_ns"
        case d2hNS = "d2h_ns"
        case outputBytes = "output_bytes"
    }
}

public struct Tolerance: Codable, Sendable, Equatable {
    public var atol: Double
    public var rtol: Double
    /// The least cosine similarity of all outputs that passes.
    public var cosineMin: Double?

    enum CodingKeys: String, CodingKey {
        case atol, rtol
        case cosineMin = "cosine_min"
    }
}

public struct VerifyResult: Codable, Sendable, Equatable {
    /// Nil when the outputs hold NaN or infinity (e.g. an fp16 overflow); then not within tolerance.
    public var maxAbsErr: Double?
    public var maxRelErr: Double?
    /// The largest `|reference|`: the scale `max_abs_err` is judged against.
    public var refMaxAbs: Double?
    public var cosine: Double?
    public var tolerance: Tolerance?
    public var withinTolerance: Bool

    enum CodingKeys: String, CodingKey {
        case cosine, tolerance
        case maxAbsErr = "max_abs_err"
        case maxRelErr = "max_rel_err"
        case refMaxAbs = "ref_max_abs"
        case withinTolerance = "within_tolerance"
    }
}

struct MemoryArgs: Codable, Sendable {
    var resetPeak: Bool
    enum CodingKeys: String, CodingKey { case resetPeak = "reset_peak" }
}
