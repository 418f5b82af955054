import Foundation

// Kinds as types. Each is an open set with named members (new kinds can come from a newer
// worker or inferbench without breaking a reader), encoded as its plain string, so
// results.json is the same as when these were strings.

/// A string-backed kind: `Codable` as its raw string, comparable with a string literal.
public protocol StringKind: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible
where RawValue == String {
    init(rawValue: String)
}

extension StringKind {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Why a cell failed or was skipped (`cells[].error.kind`).
public struct ErrorKind: StringKind {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Not run, or its figures set aside: the run was stopped (Ctrl-C, SIGTERM, a failed write).
    public static let interrupted: Self = "interrupted"
    public static let workerCrash: Self = "worker_crash"
    public static let timeout: Self = "timeout"
    public static let workerStart: Self = "worker_start"
    public static let protocolViolation: Self = "protocol"
    // Kinds the worker replies with (WorkerErrorPayload.Kind), kept as they came.
    public static let oom: Self = "oom"
    public static let compile: Self = "compile"
    public static let unsupported: Self = "unsupported"
    public static let badRequest: Self = "bad_request"
    public static let missingDependency: Self = "missing_dependency"
    public static let `internal`: Self = "internal"

    /// The kinds that mean the worker itself failed, not the model in it.
    public static let workerFailures: Set<ErrorKind> = [.workerCrash, .timeout, .workerStart, .protocolViolation]
}

/// What a warning is about (`warnings[].kind`), for grouping and for the remedy it names.
public struct WarningKind: StringKind {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let outliers: Self = "outliers"
    public static let bimodal: Self = "bimodal"
    public static let fewSamples: Self = "few_samples"
    public static let warmupUnstable: Self = "warmup_unstable"
    public static let targetCINotMet: Self = "target_ci_not_met"
    public static let throttled: Self = "throttled"
    public static let memoryGrowth: Self = "memory_growth"
    public static let accuracy: Self = "accuracy"
    public static let verifyFailed: Self = "verify_failed"
    public static let late: Self = "late"
    public static let errors: Self = "errors"
    public static let p99Drift: Self = "p99_drift"
    /// One process's median lies outside the others' (a process in a slow state).
    public static let processOutlier: Self = "process_outlier"
    /// Some of a cell's processes failed; it rests on the others.
    public static let processFailed: Self = "process_failed"
    /// Other processes kept the host's CPUs busy while the cell was measured.
    public static let hostBusy: Self = "host_busy"
    /// The worker's recompile count grew during measured chunks.
    public static let recompiledWhileMeasuring: Self = "recompiled_while_measuring"
}

/// The state of Inductor's compile cache when a variant compiled (`cold_start.compile_cache`).
public struct CompileCacheState: StringKind {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let cold: Self = "cold"
    public static let warm: Self = "warm"
    public static let partial: Self = "partial"
}

/// How a batch size of a sweep got its graph (`cold_start.batch_reuse`; absent for a fresh load).
public struct BatchReuse: StringKind {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let reused: Self = "reused"
    public static let recompiled: Self = "recompiled"
    public static let reexported: Self = "reexported"
}

/// The clock latency was read with (`measurement.clock`).
public struct ClockKind: StringKind {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let perfCounter: Self = "perf_counter"
    public static let cudaEvent: Self = "cuda_event"
}

/// Why measuring a cell stopped (`measurement.stop_reason`).
public struct MeasureStopReason: StringKind {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let running: Self = "running"
    public static let targetCIMet: Self = "target_ci_met"
    public static let fixedIterations: Self = "fixed_iterations"
    public static let maxTime: Self = "max_time"
}

/// A closed interval, at 95% confidence where it is a confidence interval. Encoded as
/// `[lower, upper]`, as results.json always had it.
public struct Interval: Codable, Sendable, Equatable, ExpressibleByArrayLiteral {
    public var lower: Double
    public var upper: Double

    public init(_ lower: Double, _ upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    /// `[lower, upper]`: exactly two values.
    public init(arrayLiteral elements: Double...) {
        precondition(elements.count == 2, "an interval is [lower, upper]")
        self.init(elements[0], elements[1])
    }

    public var tuple: (Double, Double) { (lower, upper) }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.singleValueContainer().decode([Double].self)
        guard values.count == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an interval is [lower, upper]"))
        }
        self.init(values[0], values[1])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode([lower, upper])
    }
}
