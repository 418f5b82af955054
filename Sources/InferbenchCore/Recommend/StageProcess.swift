import Foundation
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// One stage of a search, a plain `inferbench run` or `load` in a process of its own: its
/// figures are what that command records, a user can run it again as it stands, and a crash
/// or hang in it never takes the search down.
///
/// The child runs in its own process group, so a Ctrl-C reaches the search alone, which passes
/// it on: the child then stops as any inferbench does, keeping what it finished.
final class StageProcess: Sendable {
    private let pid = Mutex<Int32?>(nil)
    private let stopped = Mutex<StopReason?>(nil)

    /// Runs `executable arguments` (with `environment` over this process's), its stdout and
    /// stderr appended to `log`; its exit code (128 + the signal when it was killed), or nil
    /// when it could not start.
    func run(executable: String, arguments: [String], environment: [String: String] = [:], log: URL) async -> (code: Int32?, problem: String?) {
        let fd: FileDescriptor
        do {
            try FileManager.default.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
            fd = try FileDescriptor.open(FilePath(log.path), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch { return (nil, "cannot open \(log.path): \(error)") }
        let line = "$ inferbench \(ShellQuote.join(arguments))\n"
        _ = try? fd.writeAll(Array(line.utf8))
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(30))]
        do {
            let updates = Dictionary(uniqueKeysWithValues: environment.compactMap { k, v in Environment.Key(rawValue: k).map { ($0, Optional(v)) } })
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(updates), platformOptions: options,
                input: .none,
                output: .fileDescriptor(fd, closeAfterSpawningProcess: false), error: .fileDescriptor(fd, closeAfterSpawningProcess: false)
            ) { execution in
                let early = pid.withLock { p in
                    p = execution.processIdentifier.value
                    return stopped.withLock { $0 }
                }
                if let early { try? execution.send(signal: early == .terminate ? .terminate : .interrupt) }
            }
            pid.withLock { $0 = nil }
            try? fd.close()
            switch result.terminationStatus {
            case .exited(let code): return (code, nil)
            case .signaled(let signal): return (128 + signal, nil)
            }
        } catch {
            try? fd.close()
            return (nil, "could not start \(executable): \(error)")
        }
    }

    /// Interrupts the running child alone (SIGINT: it stops as after a Ctrl-C, keeping what it
    /// finished); later stages still run. For a stage that reaches the search's budget.
    func interruptCurrent() {
        if let current = pid.withLock({ $0 }) { kill(current, SIGINT) }
    }

    /// Passes a stop to the running child (SIGINT, or SIGTERM for a terminate).
    func stop(_ reason: StopReason) {
        let current = pid.withLock { p in
            stopped.withLock { $0 = $0 ?? reason }
            return p
        }
        if let current { kill(current, reason == .terminate ? SIGTERM : SIGINT) }
    }
}
