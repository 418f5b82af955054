import Foundation
import NIOCore
import NIOPosix
import Subprocess

#if canImport(System)
    import System
    private typealias FileDescriptor = System.FileDescriptor
#else
    import SystemPackage
    private typealias FileDescriptor = SystemPackage.FileDescriptor
#endif

/// A worker running as a child process, spoken to over its stdin and stdout.
///
/// swift-subprocess starts it, stops it (SIGTERM, then SIGKILL) and reaps it; its stdin and
/// stdout are pipes this process made, read and written on a SwiftNIO event loop, each line
/// going straight to the ``LineMailbox``. The subprocess library's own stream I/O took a
/// writer task, its I/O thread and a task per line in each direction: about 0.2 ms of every
/// round trip to the worker on a 2-core VM (a load test pays it once per batch).
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
    /// The pipes to the worker's stdin and from its stdout, as one NIO channel.
    private let pipe: EventLoopFuture<any Channel>
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
        let logFD: FileDescriptor
        let (toChild, fromChild): ((readEnd: FileDescriptor, writeEnd: FileDescriptor), (readEnd: FileDescriptor, writeEnd: FileDescriptor))
        do {
            try FileManager.default.createDirectory(
                at: logURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            // What opened before a failure is closed again.
            var opened: [FileDescriptor] = []
            do {
                toChild = try FileDescriptor.pipe()
                opened += [toChild.readEnd, toChild.writeEnd]
                fromChild = try FileDescriptor.pipe()
                opened += [fromChild.readEnd, fromChild.writeEnd]
                logFD = try FileDescriptor.open(
                    FilePath(logURL.path), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite, .groupRead, .otherRead])
            } catch {
                for fd in opened { try? fd.close() }
                throw error
            }
        } catch {
            throw .couldNotStart("cannot open the worker log \(logURL.path) or its pipes: \(error)")
        }
        // This process's ends must not be inherited by the worker (nor by other children):
        // the worker would hold its own stdin open and never see the end of it.
        for fd in [toChild.writeEnd, fromChild.readEnd] { _ = fcntl(fd.rawValue, F_SETFD, FD_CLOEXEC) }
        let mailbox = self.mailbox
        pipe = NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFramer(), maximumBufferSize: LineFramer.longest))
                    try channel.pipeline.syncOperations.addHandler(LineDelivery(mailbox: mailbox))
                }
            }
            .takingOwnershipOfDescriptors(input: fromChild.readEnd.rawValue, output: toChild.writeEnd.rawValue)
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        // Its own process group: Ctrl-C reaches inferbench alone, which then stops the
        // worker in order instead of both dying mid-write.
        options.processGroupID = 0
        let env = Environment.inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, Optional($0.value)) }))
        let startedPID = AsyncStream<Int32>.makeStream()
        spawnedPID = startedPID.stream
        let pipe = self.pipe
        runTask = Task {
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)), arguments: Arguments(arguments), environment: env, platformOptions: options,
                    input: .fileDescriptor(toChild.readEnd, closeAfterSpawningProcess: true),
                    output: .fileDescriptor(fromChild.writeEnd, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(logFD, closeAfterSpawningProcess: true)
                ) { execution in
                    startedPID.continuation.yield(execution.processIdentifier.value)
                    startedPID.continuation.finish()
                    // Until the worker's stdout ends (it exited, or closed it): the channel
                    // closes on that end of input, and the mailbox is told.
                    _ = try? await pipe.flatMap(\.closeFuture).get()
                    mailbox.finish()  // also when the pipes never opened: no reader waits on
                }
                return Self.describe(result.terminationStatus)
            } catch {
                startedPID.continuation.finish()
                pipe.whenSuccess { $0.close(promise: nil) }
                mailbox.finish()
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
        write(line)
        return try await receive(timeout: timeout, operation: operation)
    }

    public func send(_ line: String) async throws(WorkerFailure) {
        if case .exited(let status) = state {
            throw .exited(status: status, stderrTail: stderrTail())
        }
        write(line)
    }

    /// One line to the worker's stdin, in the order of the calls. A write that fails (the
    /// worker is gone) is not an error here: its end of stdout answers the reader.
    private nonisolated func write(_ line: String) {
        var buffer = ByteBuffer(string: line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        let bytes = buffer
        pipe.whenSuccess { $0.writeAndFlush(bytes, promise: nil) }
    }

    /// Closes the worker's stdin: it ends when it has answered what it read.
    private nonisolated func closeStdin() {
        pipe.whenSuccess { $0.close(mode: .output, promise: nil) }
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
        closeStdin()
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
            await killGroup()
        }
        state = .exited(await runTask.value)
    }

    public func kill() async {
        closeStdin()
        await killGroup()
        if let runTask { state = .exited(await runTask.value) }
    }

    /// SIGKILL to the worker and its process group (a child it forked without exec would hold
    /// its stdout open), then this end of the pipes closed: the run's wait for the end of the
    /// worker's stdout returns even if something still holds it.
    private func killGroup() async {
        if let pid = await processID {
            _ = Foundation.kill(-pid, SIGKILL)
            _ = Foundation.kill(pid, SIGKILL)
        }
        pipe.whenSuccess { $0.close(promise: nil) }
    }

    /// The last lines the worker wrote to stderr, for error messages.
    public func stderrTail(maxLines: Int = 8) -> String {
        guard let data = try? Data(contentsOf: logURL), let text = String(data: data.suffix(8192), encoding: .utf8)
        else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(maxLines).joined(separator: "\n")
    }
}

/// The worker's stdout as lines: split at each newline, a last line without one given at the
/// end; no line longer than ``longest`` (a reply carrying serve's outputs can be large).
struct LineFramer: ByteToMessageDecoder {
    typealias InboundOut = String
    static let longest = 256 << 20
    /// Bytes of the readable part already searched for a newline.
    private var searched = 0

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let end = view[(view.startIndex + searched)...].firstIndex(of: UInt8(ascii: "\n")) else {
            searched = view.count
            return .needMoreData
        }
        let line = buffer.readString(length: end - view.startIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        searched = 0
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0, let rest = buffer.readString(length: buffer.readableBytes) {
            searched = 0
            context.fireChannelRead(wrapInboundOut(rest))
        }
        return .needMoreData
    }
}

/// Hands each line to the mailbox; the end of the worker's stdout (or an error reading it)
/// finishes the mailbox, so no reader waits past the worker.
final class LineDelivery: ChannelInboundHandler {
    typealias InboundIn = String
    private let mailbox: LineMailbox

    init(mailbox: LineMailbox) { self.mailbox = mailbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { mailbox.push(unwrapInboundIn(data)) }

    func channelInactive(context: ChannelHandlerContext) {
        mailbox.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
