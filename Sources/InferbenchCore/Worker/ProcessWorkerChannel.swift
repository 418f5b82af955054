import Foundation
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// A worker running as a child process, spoken to over its stdin and stdout.
///
/// stderr goes to `logURL` (appended), and its tail is quoted when the worker dies.
/// A non-zero exit status is data, not an error of this type: it is reported through
/// ``WorkerFailure/exited(status:stderrTail:)`` on the next exchange.
public actor ProcessWorkerChannel: WorkerChannel {
    private enum State {
        case running(pid: Int32?)
        case exited(String)
    }

    private let mailbox = LineMailbox()
    private let outgoing: AsyncStream<String>.Continuation
    private var runTask: Task<String, Never>?
    /// Yields the worker's pid once it is spawned (or finishes if it never was); read by the
    /// first caller that needs the pid, so no task is left running to fetch it.
    private let spawnedPID: AsyncStream<Int32>
    /// The one reader of ``spawnedPID``, shared by concurrent callers and awaited by each.
    private var pidLookup: Task<Int32?, Never>?
    private var state: State = .running(pid: nil)
    private let logURL: URL

    /// Starts `executable arguments...` with `environment` added to this process's own.
    public init(executable: String, arguments: [String], environment: [String: String], logURL: URL) throws(WorkerFailure) {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw .couldNotStart("no executable Python at \(executable)")
        }
        self.logURL = logURL
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.outgoing = continuation
        let logFD: FileDescriptor
        do {
            try FileManager.default.createDirectory(
                at: logURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            logFD = try FileDescriptor.open(
                FilePath(logURL.path), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw .couldNotStart("cannot open the worker log \(logURL.path): \(error)")
        }
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        // Its own process group: Ctrl-C reaches inferbench alone, which then stops the
        // worker in order instead of both dying mid-write.
        options.processGroupID = 0
        let mailbox = self.mailbox
        let env = Environment.inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, Optional($0.value)) }))
        let startedPID = AsyncStream<Int32>.makeStream()
        spawnedPID = startedPID.stream
        runTask = Task {
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)), arguments: Arguments(arguments), environment: env,
                    platformOptions: options, input: .inputWriter, output: .sequence,
                    error: .fileDescriptor(logFD, closeAfterSpawningProcess: true)
                ) { execution in
                    startedPID.continuation.yield(execution.processIdentifier.value)
                    startedPID.continuation.finish()
                    let writer = execution.standardInputWriter
                    // The writer is a child of this scope: it ends (cancelled) when stdout does.
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await line in lines {
                                do { _ = try await writer.write(line + "\n") } catch { break }
                            }
                            try? await writer.finish()
                        }
                        do {
                            for try await line in execution.standardOutput.strings(bufferingPolicy: .maxLineLength(256 << 20)) {
                                await mailbox.push(line)
                            }
                        } catch {}
                        await mailbox.finish()
                        group.cancelAll()
                    }
                    continuation.finish()
                }
                return Self.describe(result.terminationStatus)
            } catch {
                startedPID.continuation.finish()
                await mailbox.finish()
                return "could not start: \(error)"
            }
        }
    }

    /// The pid, once the process is spawned: waits for the spawn the first time.
    public var processID: Int32? {
        get async {
            if case .running(nil) = state {
                let lookup =
                    pidLookup
                    ?? Task { [spawnedPID] in
                        var iterator = spawnedPID.makeAsyncIterator()
                        return await iterator.next()
                    }
                pidLookup = lookup
                if let pid = await lookup.value, case .running(nil) = state { state = .running(pid: pid) }
            }
            if case .running(let pid) = state { return pid }
            return nil
        }
    }

    static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal):
            let name = [9: "SIGKILL", 15: "SIGTERM", 11: "SIGSEGV", 6: "SIGABRT", 2: "SIGINT"][Int(signal)] ?? "signal \(signal)"
            return "killed by \(name)"
        }
    }

    /// One request and its reply in one actor turn up to the wait (the protocol's default
    /// would send and receive in two hops): the synchronous path, as before pipelining.
    public func exchange(_ line: String, timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        if case .exited(let status) = state {
            throw .exited(status: status, stderrTail: stderrTail())
        }
        outgoing.yield(line)
        return try await receive(timeout: timeout, operation: operation)
    }

    public func send(_ line: String) async throws(WorkerFailure) {
        if case .exited(let status) = state {
            throw .exited(status: status, stderrTail: stderrTail())
        }
        outgoing.yield(line)
    }

    public func receive(timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        if case .exited(let status) = state {
            throw .exited(status: status, stderrTail: stderrTail())
        }
        switch await mailbox.next(timeout: timeout) {
        case .line(let reply):
            return reply
        case .endOfStream:
            let status = await runTask?.value ?? "unknown"
            state = .exited(status)
            throw .exited(status: status, stderrTail: stderrTail())
        case .timedOut:
            await kill()
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            throw .timedOut(operation: operation, seconds: seconds, stderrTail: stderrTail())
        }
    }

    public func close(grace: Duration) async {
        outgoing.finish()
        guard let runTask else { return }
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = await runTask.value; return true
            }
            group.addTask {
                try? await Task.sleep(for: grace); return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished {
            runTask.cancel()  // runs the teardown sequence: SIGTERM, then SIGKILL
            if let pid = await processID { _ = Foundation.kill(pid, SIGKILL) }
        }
        state = .exited(await runTask.value)
    }

    public func kill() async {
        outgoing.finish()
        if let pid = await processID { _ = Foundation.kill(pid, SIGKILL) }
        if let runTask { state = .exited(await runTask.value) }
    }

    /// The last lines the worker wrote to stderr, for error messages.
    public func stderrTail(maxLines: Int = 8) -> String {
        guard let data = try? Data(contentsOf: logURL), let text = String(data: data.suffix(8192), encoding: .utf8)
        else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(maxLines).joined(separator: "\n")
    }
}
