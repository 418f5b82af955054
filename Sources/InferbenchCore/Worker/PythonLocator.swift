import Foundation

/// Where the Python interpreter for workers came from, in the order they are tried.
public enum PythonSource: String, Sendable, Codable {
    case flag = "--python"
    case environmentVariable = "INFERBENCH_PYTHON"
    case projectVenv = "project .venv"
    case path = "python3 on PATH"
}

/// Finds the Python that runs the workers: `--python`, `INFERBENCH_PYTHON`, the project's
/// `.venv` (searched upwards from the working directory and from the executable), then
/// `python3` on `PATH`.
public struct PythonLocator: Sendable {
    public var flag: String?
    public var environment: [String: String]
    public var workingDirectory: URL
    public var executableURL: URL?

    public init(
        flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        executableURL: URL? = Bundle.main.executableURL
    ) {
        self.flag = flag
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.executableURL = executableURL
    }

    public func locate() throws(InferbenchError) -> (path: String, source: PythonSource) {
        if let flag {
            return (try Self.checked(flag, what: "--python"), .flag)
        }
        if let value = environment["INFERBENCH_PYTHON"], !value.isEmpty {
            return (try Self.checked(value, what: "INFERBENCH_PYTHON"), .environmentVariable)
        }
        for start in [workingDirectory, executableURL?.deletingLastPathComponent()].compactMap({ $0 }) {
            var directory = start.standardizedFileURL
            while true {
                let candidate = directory.appending(path: ".venv/bin/python").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return (candidate, .projectVenv) }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return (candidate, .path) }
        }
        throw .badInput(
            "no Python found: give one with --python PATH or INFERBENCH_PYTHON, or run `make setup` to create .venv")
    }

    public static func checked(_ path: String, what: String) throws(InferbenchError) -> String {
        var resolved = path
        if !path.contains("/") {
            // A bare name like `python3.12` is looked up on PATH.
            let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            guard let found = dirs.map({ "\($0)/\(path)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) })
            else { throw .badInput("\(what) \(path): not found on PATH; give the full path of a Python executable") }
            resolved = found
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            throw .badInput("\(what) \(path): no such file; give the path of a Python executable that has PyTorch")
        }
        guard !isDirectory.boolValue, FileManager.default.isExecutableFile(atPath: resolved) else {
            throw .badInput("\(what) \(path): not an executable file; give the path of a Python executable, e.g. .venv/bin/python")
        }
        return resolved
    }
}
