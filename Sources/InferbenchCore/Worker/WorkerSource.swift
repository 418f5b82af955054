import Foundation

/// The worker's Python package, as a directory to put on `PYTHONPATH`.
///
/// A release binary carries the package inside itself (``EmbeddedWorker``) and unpacks it
/// once per content hash under `~/.cache/inferbench/`. `INFERBENCH_WORKER_SOURCE` names a
/// directory holding `inferbench_worker/` to use instead (for worker development).
public enum WorkerSource {
    public static func pythonPath(environment: [String: String] = ProcessInfo.processInfo.environment) throws(InferbenchError) -> String {
        if let override = environment["INFERBENCH_WORKER_SOURCE"], !override.isEmpty {
            return override
        }
        let cacheRoot =
            environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appending(path: ".cache")
        let root = cacheRoot.appending(path: "inferbench/worker-\(contentHash)")
        let package = root.appending(path: "inferbench_worker")
        if FileManager.default.fileExists(atPath: package.appending(path: "__main__.py").path) {
            return root.path
        }
        do {
            let staging = cacheRoot.appending(path: "inferbench/.staging-\(UUID().uuidString)")
            let stagedPackage = staging.appending(path: "inferbench_worker")
            try FileManager.default.createDirectory(at: stagedPackage, withIntermediateDirectories: true)
            for file in EmbeddedWorker.files {
                try file.contents.write(to: stagedPackage.appending(path: file.name), atomically: true, encoding: .utf8)
            }
            do {
                try FileManager.default.moveItem(at: staging, to: root)
            } catch {
                // Another inferbench unpacked the same content first: use theirs.
                try? FileManager.default.removeItem(at: staging)
                guard FileManager.default.fileExists(atPath: package.path) else { throw error }
            }
        } catch {
            throw .environment("cannot unpack the worker into \(root.path): \(error); set XDG_CACHE_HOME to a writable directory")
        }
        return root.path
    }

    /// FNV-1a over every embedded file, so a changed worker lands in a new directory.
    public static var contentHash: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for file in EmbeddedWorker.files {
            for byte in file.name.utf8 + [0] + file.contents.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }
}
