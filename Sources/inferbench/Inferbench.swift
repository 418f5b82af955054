import ArgumentParser
import Foundation
import InferbenchCore

struct Inferbench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inferbench",
        abstract: "Benchmark and stress-test PyTorch inference, with numbers you can defend.",
        discussion: """
            Exit codes: 0 success, 1 internal error, 2 some cells failed (results kept), 3 regression found,
            4 environment problem (no Python/PyTorch/CUDA), 5 every cell failed in its worker, 6 results could not be
            written (disk full, permissions; what is on disk is said), 7 compare --fail-on-regression matched no cell,
            64 bad input (recommend: 2 no configuration meets the bound, 3 --check disagrees), 130 interrupted by Ctrl-C, 143 stopped by SIGTERM (finished cells kept in both).
            """,
        version: InferbenchInfo.version,
        subcommands: [Run.self, Load.self, Serve.self, Recommend.self, Report.self, Compare.self, History.self, Doctor.self, Models.self, Monitor.self],
        defaultSubcommand: Run.self
    )
}

/// Prints an error line to stderr and turns it into the documented exit code.
func failure(_ error: InferbenchError) -> ExitCode {
    Console.error(error.description)
    return ExitCode(error.exitStatus.rawValue)
}

/// `--python`: every command that starts a worker.
struct PythonChoice: ParsableArguments {
    @Option(name: .long, help: "Python interpreter with PyTorch (default: $INFERBENCH_PYTHON, the project's .venv, python3 on PATH).")
    var python: String?

    func launcher(logDirectory: URL, timeouts: WorkerTimeouts = WorkerTimeouts()) throws(InferbenchError) -> (WorkerLauncher, PythonSource) {
        let (path, source) = try PythonLocator(flag: python).locate()
        return (WorkerLauncher(python: path, logDirectory: logDirectory, timeouts: timeouts), source)
    }
}

/// `--python` and `--timeout`: the commands whose workers load models (run, load, doctor).
struct PythonOptions: ParsableArguments {
    @OptionGroup var choice: PythonChoice

    @Option(
        name: .long,
        help: "Seconds a worker may take to answer one request before it is killed (default: 1800 to load and compile a model, 600 for any other request).")
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout \(timeout): give seconds > 0") }
    }

    var timeouts: WorkerTimeouts {
        guard let timeout else { return WorkerTimeouts() }
        return WorkerTimeouts(all: .milliseconds(Int64(timeout * 1000)))
    }

    func launcher(logDirectory: URL) throws(InferbenchError) -> (WorkerLauncher, PythonSource) {
        try choice.launcher(logDirectory: logDirectory, timeouts: timeouts)
    }
}
