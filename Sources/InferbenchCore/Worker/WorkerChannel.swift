import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Why a worker could not answer a request.
///
/// An error *reply* from a live worker is not a `WorkerFailure`: it arrives as a
/// ``WorkerErrorPayload`` and the worker stays usable.
public enum WorkerFailure: Error, Sendable, Equatable {
    /// The worker could not be started at all (missing interpreter, bad path).
    case couldNotStart(String)
    /// The worker closed its stdout: it crashed, was killed, or exited.
    case exited(status: String, stderrTail: String)
    /// No reply came within the operation's timeout; the worker was stopped.
    case timedOut(operation: String, seconds: Double, stderrTail: String)
    /// The worker wrote something that is not a reply to the request sent.
    case protocolViolation(String)
}

/// A bidirectional line channel to one worker.
///
/// The real channel is a child process (``ProcessWorkerChannel``); tests inject fakes
/// through ``Worker``'s initializer.
public protocol WorkerChannel: Sendable {
    /// Sends one request line and returns the next line the worker writes.
    func exchange(_ line: String, timeout: Duration, operation: String) async throws(WorkerFailure) -> String
    /// Sends one request line without waiting for a reply (pipelined requests, whose replies
    /// the caller reads with ``receive(timeout:operation:)`` and matches by id).
    func send(_ line: String) async throws(WorkerFailure)
    /// The next line the worker writes, whichever request it answers. One reader at a time.
    func receive(timeout: Duration, operation: String) async throws(WorkerFailure) -> String
    /// Ends the worker: closes its stdin, waits `grace`, then SIGTERM and SIGKILL.
    func close(grace: Duration) async
    /// Kills the worker at once (after a timeout, or on Ctrl-C).
    func kill() async
    /// The worker's process id, when it is a process.
    var processID: Int32? { get async }
}

extension WorkerChannel {
    public func exchange(_ line: String, timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        try await send(line)
        return try await receive(timeout: timeout, operation: operation)
    }
}

/// Lines read from a worker, each handed to one waiter, first come first served.
///
/// A channel has one reader at a time (``Worker`` sees to it); should two wait anyway, each
/// still gets a line, the end of the stream or its own timeout: no waiter is ever dropped
/// (a dropped continuation would leave its caller suspended forever).
///
/// A lock, not an actor, and one timer for all waits: every batch of a load test waits here
/// once, and an actor hop per line plus a task sleeping out each wait's timeout were a
/// measurable part of the round trip to the worker. The timer is armed for the earliest
/// waiter's deadline and, when it fires, for the next one; waits of the same timeout come in
/// deadline order, so it is armed about once per timeout, not once per wait.
final class LineMailbox: Sendable {
    enum Next: Sendable { case line(String), endOfStream, timedOut }

    private struct Waiter {
        var deadline: NIODeadline
        var continuation: CheckedContinuation<Next, Never>
    }

    private struct State {
        var buffered: [String] = []
        var finished = false
        var waiters: [Waiter] = []
        /// When the armed timer fires; nil: none is armed.
        var armed: NIODeadline?
    }

    private let state = Mutex(State())
    private let timers: any EventLoop

    init(timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()) { self.timers = timers }

    func push(_ line: String) {
        let waiter = state.withLock { s -> Waiter? in
            if s.waiters.isEmpty {
                s.buffered.append(line)
                return nil
            }
            return s.waiters.removeFirst()
        }
        waiter?.continuation.resume(returning: .line(line))
    }

    func finish() {
        let ending = state.withLock { s -> [Waiter] in
            s.finished = true
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in ending { waiter.continuation.resume(returning: .endOfStream) }
    }

    /// The next line, `.endOfStream` once the writer is gone, or `.timedOut`.
    func next(timeout: Duration) async -> Next {
        let nanoseconds = Double(timeout.components.seconds) * 1e9 + Double(timeout.components.attoseconds) / 1e9
        let deadline = NIODeadline.now() + .nanoseconds(Int64(min(max(nanoseconds, 0), 1e17)))  // 1e17 ns: three years, "never"
        return await withCheckedContinuation { continuation in
            enum Start { case now(Next), arm(NIODeadline), wait }
            let start = state.withLock { s -> Start in
                if !s.buffered.isEmpty { return .now(.line(s.buffered.removeFirst())) }
                if s.finished { return .now(.endOfStream) }
                s.waiters.append(Waiter(deadline: deadline, continuation: continuation))
                guard s.armed.map({ $0 > deadline }) ?? true else { return .wait }
                s.armed = deadline
                return .arm(deadline)
            }
            switch start {
            case .now(let next): continuation.resume(returning: next)
            case .arm(let when): arm(at: when)
            case .wait: break
            }
        }
    }

    private func arm(at when: NIODeadline) {
        timers.scheduleTask(deadline: when) { [self] in expire() }
    }

    /// Ends the waits whose deadline has passed with `.timedOut`, and arms the timer for the
    /// earliest one left.
    private func expire() {
        let now = NIODeadline.now()
        let (due, next) = state.withLock { s -> ([Waiter], NIODeadline?) in
            let due = s.waiters.filter { $0.deadline <= now }
            s.waiters.removeAll { $0.deadline <= now }
            let earliest = s.waiters.map(\.deadline).min()
            // Another timer armed earlier than the one left stays in charge.
            if let armed = s.armed, armed > now, earliest.map({ armed <= $0 }) ?? true { return (due, nil) }
            s.armed = earliest
            return (due, earliest)
        }
        for waiter in due { waiter.continuation.resume(returning: .timedOut) }
        if let next { arm(at: next) }
    }
}
