import NIOCore
import NIOPosix

/// Where Swift concurrency runs the jobs of an HTTP-bound command. By default a task that
/// awaits a SwiftNIO future is resumed on the concurrency pool's threads, a hop from the event
/// loop thread per request and back; `load --target` makes two per request, and on few cores
/// those hops cost as much as the HTTP work. Installing SwiftNIO's event loops as the global
/// executor runs the tasks where their I/O completes.
public enum EventLoopExecutor {
    /// Installs it for `load --target`; must run on the main thread before the first task.
    /// Returns whether it was installed.
    @discardableResult
    public static func install(for arguments: [String]) -> Bool {
        let words = arguments.dropFirst()
        guard words.first == "load", words.contains(where: { $0 == "--target" || $0.hasPrefix("--target=") }) else { return false }
        return NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
