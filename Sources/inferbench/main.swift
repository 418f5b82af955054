import ArgumentParser
import InferbenchCore

// Before the first task: `load --target` runs its tasks on SwiftNIO's event loops.
EventLoopExecutor.install(for: CommandLine.arguments)

/// The async `run()` of a parsed command (a bare `run()` call on the existential here picks
/// ParsableCommand's synchronous one, which prints help).
func runAsync(_ command: some AsyncParsableCommand) async throws {
    var command = command
    try await command.run()
}

// What AsyncParsableCommand's main() does, after the executor is in place.
do {
    var command = try await Inferbench.asyncParseAsRoot()
    if let asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(asyncCommand)
    } else {
        try command.run()
    }
} catch {
    Inferbench.exit(withError: error)
}
