import ArgumentParser
import Foundation
import InferbenchCore

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the model zoo.")

    @OptionGroup var pythonOptions: PythonChoice

    func run() async throws {
        let zoo: [ZooEntry]
        do { zoo = try await list() } catch { throw failure(error) }
        Console.out(ModelsReport.render(zoo))
    }

    func list() async throws(InferbenchError) -> [ZooEntry] {
        let logs = FileManager.default.temporaryDirectory.appending(path: "inferbench-logs")
        let (launcher, _) = try pythonOptions.launcher(logDirectory: logs)
        let (worker, _) = try await launcher.start(label: "models")
        do {
            let zoo = try await worker.models()
            await worker.shutdown()
            return zoo
        } catch {
            await worker.shutdown()
            throw .worker("the worker could not list models: \(WorkerError.describe(error))")
        }
    }
}
