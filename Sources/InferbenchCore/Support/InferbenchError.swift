/// The exit codes inferbench documents (docs/cli.md). Scripts and CI rely on them.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    /// A bug in inferbench: please report it.
    case internalError = 1
    /// The run finished and wrote its results, but some cells failed.
    case cellsFailed = 2
    /// `compare --fail-on-regression` found a significant slowdown beyond the threshold.
    case regression = 3
    /// The environment cannot run the request: no Python, no PyTorch, no CUDA.
    case environment = 4
    /// Every cell failed because workers crashed, hung or could not start.
    case workerFailure = 5
    /// A result file or the results store could not be written (full disk, permissions): what
    /// is on disk and what was lost was said on stderr. Measuring stopped at the first failed
    /// write of results.json.
    case writeFailed = 6
    /// `compare --fail-on-regression` matched no cell of A with one of B: the gate checked
    /// nothing, so it neither passes nor fails.
    case nothingCompared = 7
    /// Bad command-line input or plan file (same as swift-argument-parser's validation errors).
    case badInput = 64
    /// Interrupted with Ctrl-C (SIGINT); finished cells were kept.
    case interrupted = 130
    /// Stopped by SIGTERM; finished cells were kept.
    case terminated = 143
}

/// An error whose message names the fix, carrying the exit status it maps to.
public enum InferbenchError: Error, Sendable, Equatable, CustomStringConvertible {
    case badInput(String)
    case environment(String)
    case worker(String)
    case regression(String)
    case interrupted(String)
    case writeFailed(String)
    case nothingCompared(String)
    case `internal`(String)

    public var description: String {
        switch self {
        case .badInput(let m), .environment(let m), .worker(let m), .regression(let m), .interrupted(let m),
            .writeFailed(let m), .nothingCompared(let m), .internal(let m):
            return m
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .badInput: return .badInput
        case .environment: return .environment
        case .worker: return .workerFailure
        case .regression: return .regression
        case .interrupted: return .interrupted
        case .writeFailed: return .writeFailed
        case .nothingCompared: return .nothingCompared
        case .internal: return .internalError
        }
    }
}
