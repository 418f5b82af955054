@preconcurrency import Dispatch
import Foundation

/// Ctrl-C handling: the first SIGINT prints `message` (if any) and calls `handler` (the run
/// stops between chunks and keeps finished cells); a second one exits at once.
final class Interrupt: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    private init(source: any DispatchSourceSignal) { self.source = source }

    static func install(
        message: String? = "\ninterrupted: stopping after the current step and keeping finished cells (Ctrl-C again to quit now)",
        _ handler: @escaping @Sendable () -> Void
    ) -> Interrupt {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = Counter()
        source.setEventHandler {
            if count.increment() == 1 {
                if let message { Console.note(message) }
                handler()
            } else {
                Foundation.exit(130)
            }
        }
        source.resume()
        return Interrupt(source: source)
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
}
