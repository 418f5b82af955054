import Foundation
import InferbenchCore
import Synchronization

/// The only place that writes to the terminal: results to stdout, the rest to stderr.
enum Console {
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    /// Whether a status line is on screen, so that the next message clears it first.
    static let statusLineShown = Mutex(false)

    /// The columns the summary may take: `COLUMNS` when set (shells export it, and a user may
    /// set it for a pipe), else the terminal's width, else 100, the design width.
    static var width: Int {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 0 { return columns }
        var size = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return TerminalLayout.designWidth
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func error(_ message: String) {
        clearStatus()
        let prefix = stderrIsTTY ? "\u{1B}[1;31merror:\u{1B}[0m " : "error: "
        FileHandle.standardError.write(Data((prefix + message + "\n").utf8))
    }

    static func note(_ message: String) {
        clearStatus()
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Rewrites the one status line at the bottom of a terminal.
    static func status(_ line: String) {
        guard stderrIsTTY else { return }
        statusLineShown.withLock { shown in
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line.prefix(200)).utf8))
            shown = true
        }
    }

    static func clearStatus() {
        statusLineShown.withLock { shown in
            if shown {
                FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
                shown = false
            }
        }
    }
}

/// Renders progress events: a live line on a terminal, one line per finished cell otherwise.
final class ProgressPrinter: Sendable {
    let quiet: Bool
    init(quiet: Bool) { self.quiet = quiet }

    func handle(_ p: RunProgress) {
        guard !quiet else { return }
        let head = "[\(p.cellIndex + 1)/\(p.cellCount)] \(p.label)"
        if Console.stderrIsTTY {
            var line = "\(head)  \(p.phase.rawValue)"
            if p.iterations > 0 { line += "  \(p.iterations) it" }
            if p.elapsed > 0 { line += String(format: "  %.1f s", p.elapsed) }
            if let r = p.remaining, r > 0.5 { line += String(format: "  ~%.0f s left", r) }
            if p.phase == .done || p.phase == .failed || p.phase == .skipped {
                Console.note("\(head)  \(p.phase.rawValue)")
            } else {
                Console.status(line)
            }
        } else if p.phase == .done || p.phase == .failed || p.phase == .skipped || p.phase == .load {
            Console.note("\(head)  \(p.phase.rawValue)")
        }
    }
}
