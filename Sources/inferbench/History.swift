import ArgumentParser
import Foundation
import InferbenchCore

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the runs recorded in the results store, newest first.",
        discussion: """
            Every `run` records itself in the store as each cell finishes, every `load` as each window \
            and step does; a run that was killed or interrupted shows as incomplete with what it finished. Give a listed id (or a \
            unique prefix of it, or `latest`) to `compare` and `report`. `recommend` searches are listed after the runs; give \
            a search id to `recommend --resume` or `--check`.
            """)

    @Option(name: .long, help: "Only runs with a cell of this model (bert-base also matches bert-base:seq=512).")
    var model: String?

    @Option(name: .long, help: "Only runs with an environment of this name or torch version.")
    var env: String?

    @Option(name: .long, help: "Only runs started on or after this day (YYYY-MM-DD, UTC).")
    var since: String?

    @Option(name: .long, help: "At most N runs.")
    var limit: Int = 20

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit \(limit): give 1 or more") }
        if let since, Self.day(since) == nil { throw ValidationError("--since \(since): give a day as YYYY-MM-DD, e.g. 2026-11-01") }
    }

    static func day(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.date(from: text)
    }

    func run() async throws {
        do { Console.out(try execute()) } catch { throw failure(error) }
    }

    func execute() throws(InferbenchError) -> String {
        let path = storeOptions.path
        // Listing never creates a store: a missing one simply holds no runs yet.
        guard FileManager.default.fileExists(atPath: path) else { return HistoryReport.render([], store: path) }
        let store = try ResultsStore(path: path, access: .readOnly)
        let runs = try store.runs(model: model, environment: env, since: since.flatMap(Self.day), limit: limit)
        let searches = try store.recommendSearches(limit: limit).filter { s in
            (model.map { s.model == $0 || s.model.hasPrefix($0 + ":") } ?? true) && (since.flatMap(Self.day).map { s.startedAt >= $0 } ?? true)
                && env == nil
        }
        return HistoryReport.render(runs, store: path) + HistoryReport.render(searches: searches)
    }
}
