import Foundation
import PackagePlugin

/// Generates `EmbeddedWorker.swift` from the Python worker's sources on every build in
/// which one of them changed, so the binary can never carry a stale worker.
@main
struct EmbedWorker: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let workerDirectory = context.package.directoryURL
            .appending(path: "python").appending(path: "inferbench_worker")
        let names = try FileManager.default.contentsOfDirectory(atPath: workerDirectory.path())
            .filter { $0.hasSuffix(".py") }
            .sorted()
        let inputs = names.map { workerDirectory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedWorker.swift")
        return [
            .buildCommand(
                displayName: "Embedding the Python worker (\(names.count) files)",
                executable: try context.tool(named: "embed-worker").url,
                arguments: [output.path()] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
