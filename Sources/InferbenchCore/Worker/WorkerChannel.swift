import Foundation

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
actor LineMailbox {
    enum Next: Sendable { case line(String), endOfStream, timedOut }

    private var buffered: [String] = []
    private var finished = false
    private var waiters: [(token: Int, continuation: CheckedContinuation<Next, Never>)] = []
    private var lastToken = 0

    func push(_ line: String) {
        if waiters.isEmpty {
            buffered.append(line)
        } else {
            waiters.removeFirst().continuation.resume(returning: .line(line))
        }
    }

    func finish() {
        finished = true
        let ending = waiters
        waiters.removeAll()
        for waiter in ending { waiter.continuation.resume(returning: .endOfStream) }
    }

    /// The next line, `.endOfStream` once the writer is gone, or `.timedOut`.
    func next(timeout: Duration) async -> Next {
        if !buffered.isEmpty { return .line(buffered.removeFirst()) }
        if finished { return .endOfStream }
        lastToken += 1
        let token = lastToken
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            await self?.expire(token: token)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            waiters.append((token, continuation))
        }
    }

    /// Ends the wait of `token` with `.timedOut`, if it still waits.
    private func expire(token: Int) {
        guard let i = waiters.firstIndex(where: { $0.token == token }) else { return }
        waiters.remove(at: i).continuation.resume(returning: .timedOut)
    }
}
