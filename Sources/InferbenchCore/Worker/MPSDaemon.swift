import Foundation
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// A private CUDA MPS control daemon for one load test (`load --mps`): several workers on a GPU
/// then share one GPU context and run their kernels at the same time, instead of taking turns
/// in time slices. Private (its own pipe and log folders, passed to the workers through the
/// environment), so that it neither joins nor stops a daemon someone else runs on the host.
public struct MPSDaemon: Sendable {
    public let control: String
    public let directory: URL

    /// What a worker needs in its environment to be a client of this daemon.
    public var environment: [String: String] {
        ["CUDA_MPS_PIPE_DIRECTORY": directory.appending(path: "pipe").path, "CUDA_MPS_LOG_DIRECTORY": directory.appending(path: "log").path]
    }

    /// `nvidia-cuda-mps-control` on `PATH`, nil without it (no NVIDIA driver utilities).
    public static func locate(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for dir in (path ?? "").split(separator: ":") {
            let candidate = "\(dir)/nvidia-cuda-mps-control"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Starts the daemon (`-d`: it forks and the command returns). Throws `.environment` with
    /// what to do when it cannot.
    public static func start(control: String) async throws(InferbenchError) -> MPSDaemon {
        let dir = FileManager.default.temporaryDirectory.appending(path: "inferbench-mps-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let daemon = MPSDaemon(control: control, directory: dir)
        do {
            for sub in ["pipe", "log"] { try FileManager.default.createDirectory(at: dir.appending(path: sub), withIntermediateDirectories: true) }
            let status = try await daemon.runControl(["-d"], input: "")
            guard status else { throw InferbenchError.environment("") }
        } catch {
            try? FileManager.default.removeItem(at: dir)
            throw .environment(
                "--mps: \(control) -d did not start an MPS daemon (see \(dir.appending(path: "log").path) if it exists); drop --mps, or check that the GPU's compute mode allows it (nvidia-smi -q | grep 'Compute Mode')"
            )
        }
        return daemon
    }

    /// Asks the daemon to quit (it ends once its clients have) and removes its folders.
    public func stop() async {
        _ = try? await runControl([], input: "quit\n")
        try? FileManager.default.removeItem(at: directory)
    }

    private func runControl(_ arguments: [String], input: String) async throws -> Bool {
        let env = Environment.inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, Optional($0.value)) }))
        // Output discarded: the forked daemon would otherwise hold a pipe of ours open.
        let result = try await Subprocess.run(
            .path(FilePath(control)), arguments: Arguments(arguments), environment: env, input: .string(input), output: .discarded, error: .discarded)
        if case .exited(0) = result.terminationStatus { return true }
        return false
    }
}
