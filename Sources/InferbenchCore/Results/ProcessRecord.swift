import Foundation

/// One worker process's share of a cell (`measurement.processes[]`): each cell is measured in
/// several fresh processes, because on a cloud GPU a process can run 2× slower for its whole
/// life while the next one does not.
public struct ProcessRecord: Codable, Sendable, Equatable {
    /// 1-based: the n-th process that measured this cell (its replicate).
    public var replicate: Int
    public var pid: Int32?
    public var status: CellResult.Status
    public var error: CellError?
    /// Chunks and samples this process contributed, in `samples_ns` order.
    public var chunks: Int
    public var samples: Int
    public var medianMS: Double?
    /// The median's 95% interval from this process's chunks alone.
    public var ci95: Interval?
    public var chunkMediansMS: [Double]
    /// Compile time of this process's load and the state of Inductor's cache then: later
    /// processes often find it warm.
    public var compileS: Double?
    public var compileCache: CompileCacheState?
    public var launchOverheadMS: Double?
    public var state: ProcessEvidence?
    /// This process's median over the other processes' (nil with one process).
    public var ratioToOthers: Double?

    public init(replicate: Int, status: CellResult.Status, chunks: Int = 0, samples: Int = 0, chunkMediansMS: [Double] = []) {
        self.replicate = replicate
        self.status = status
        self.chunks = chunks
        self.samples = samples
        self.chunkMediansMS = chunkMediansMS
    }

    enum CodingKeys: String, CodingKey {
        case replicate, pid, status, error, chunks, samples, state
        case medianMS = "median_ms"
        case ci95
        case chunkMediansMS = "chunk_medians_ms"
        case compileS = "compile_s"
        case compileCache = "compile_cache"
        case launchOverheadMS = "launch_overhead_ms"
        case ratioToOthers = "ratio_to_others"
    }
}

/// What a process's timing thread went through while it measured: the evidence that names a
/// slow process (or shows that the usual suspects were not it).
public struct ProcessEvidence: Codable, Sendable, Equatable {
    public var involuntarySwitches: Int?
    public var voluntarySwitches: Int?
    public var migrations: Int?
    /// CPUs the timing thread was seen on at the end of its chunks.
    public var cpus: [Int]?
    public var gcCollections: Int?
    /// The timing thread's CPU time over the wall time of its chunks (1 = always on a CPU).
    public var onCPUFraction: Double?
    /// The host's CPU use (all cores, %) and the worker's (% of one core) during its chunks.
    public var hostCPUUtil: Double?
    public var workerCPUUtil: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case migrations, cpus
        case involuntarySwitches = "involuntary_switches"
        case voluntarySwitches = "voluntary_switches"
        case gcCollections = "gc_collections"
        case onCPUFraction = "on_cpu_fraction"
        case hostCPUUtil = "host_cpu_util"
        case workerCPUUtil = "worker_cpu_util"
    }
}

/// How a cell's intervals were computed (`measurement.interval_method`).
public struct IntervalMethod: StringKind {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Hierarchical bootstrap over processes and chunks (see docs/methodology.md).
    public static let clusterBootstrap: Self = "cluster_bootstrap"
    /// The same, its between-process part moderated by the run's prior (``VariancePrior``).
    public static let moderatedClusterBootstrap: Self = "cluster_bootstrap_moderated"
    /// Order statistics of the iterations, as if they were independent (older results).
    public static let orderStatistic: Self = "order_statistic"
}
