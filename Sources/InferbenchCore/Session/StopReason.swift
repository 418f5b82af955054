import Foundation
import Synchronization

/// Why a session stopped before its plan was done.
public enum StopReason: Sendable, Equatable {
    /// SIGINT (Ctrl-C).
    case interrupt
    /// SIGTERM (a job scheduler, `kill`).
    case terminate
    /// `results.json` could not be written: measuring on would measure into nothing.
    case writeFailed

    public var exitStatus: ExitStatus {
        switch self {
        case .interrupt: return .interrupted
        case .terminate: return .terminated
        case .writeFailed: return .writeFailed
        }
    }
}

/// The stop switch of one session: the first reason wins, and the task it guards is
/// cancelled (between chunks for a run, between requests for a load test).
final class StopSwitch: Sendable {
    private struct State {
        var reason: StopReason?
        var cancel: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    var reason: StopReason? { state.withLock { $0.reason } }

    func stop(_ reason: StopReason) {
        let cancel = state.withLock { state in
            if state.reason == nil { state.reason = reason }
            return state.cancel
        }
        cancel?()
    }

    /// Runs `body` in a task that ``stop(_:)`` cancels, and waits for it. A stop that came
    /// before this call cancels the task at once.
    func guarded<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let stopped = state.withLock { state in
            state.cancel = { task.cancel() }
            return state.reason != nil
        }
        if stopped { task.cancel() }
        let value = await task.value
        state.withLock { $0.cancel = nil }
        return value
    }
}
