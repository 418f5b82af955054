@preconcurrency import Dispatch
import Foundation
import InferbenchCore
import Synchronization

/// SIGINT and SIGTERM handling: the first signal prints a note and calls `handler` with its
/// reason (the session stops between chunks or requests and keeps what it finished); a
/// second one exits at once with that signal's status (130 or 143).
final class Interrupt: Sendable {
    private let sources: [any DispatchSourceSignal]

    private init(sources: [any DispatchSourceSignal]) { self.sources = sources }

    static func install(quietly: Bool = false, _ handler: @escaping @Sendable (StopReason) -> Void) -> Interrupt {
        let count = Mutex(0)
        var sources: [any DispatchSourceSignal] = []
        for (number, reason) in [(SIGINT, StopReason.interrupt), (SIGTERM, StopReason.terminate)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let n = count.withLock { value in
                    value += 1
                    return value
                }
                if n == 1 {
                    defer { handler(reason) }
                    if quietly { return }
                    let name = reason == .interrupt ? "interrupted" : "terminated"
                    Console.note("\n\(name): stopping: what is in flight finishes, what finished is kept (Ctrl-C again to quit now)")
                } else {
                    Foundation.exit(reason.exitStatus.rawValue)
                }
            }
            source.resume()
            sources.append(source)
        }
        return Interrupt(sources: sources)
    }

    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// Passes a stop on to a session that may not exist yet: a stop that comes first is kept
/// and handed over when the session attaches.
final class StopRelay: Sendable {
    private struct State {
        var reason: StopReason?
        var target: (@Sendable (StopReason) -> Void)?
    }
    private let state = Mutex(State())

    var reason: StopReason? { state.withLock { $0.reason } }

    func stop(_ reason: StopReason) {
        let target = state.withLock { state in
            if state.reason == nil { state.reason = reason }
            return state.target
        }
        target?(reason)
    }

    func attach(_ target: @escaping @Sendable (StopReason) -> Void) {
        let pending = state.withLock { state in
            state.target = target
            return state.reason
        }
        if let pending { target(pending) }
    }
}
