import Foundation

/// Results named on a command line, and where they came from.
public struct ResolvedResults: Sendable {
    public var results: RunResults
    /// The results.json read, or the one the stored run was saved with (nil when it had none).
    public var file: URL?
    /// What to call the source in reports: a path, or `store:<run id>`.
    public var label: String
    /// True when the results came from the store rather than a file.
    public var fromStore: Bool
}

extension ResultsStore {
    /// Resolves a reference: a results.json path, a run folder, a stored run id, a unique id
    /// prefix, or `latest`.
    ///
    /// Something that exists on disk, or looks like a path (has a `/` or ends in `.json`), is
    /// read as a file with `RunResults.load`'s messages. Anything else is looked up in the store
    /// at `storePath`, which is opened only then (and not created when it does not exist).
    public static func resolve(_ reference: String, storePath: String, role: String = "RESULTS") throws(InferbenchError) -> ResolvedResults {
        if looksLikePath(reference) {
            let (results, url) = try RunResults.load(path: reference, role: role)
            return ResolvedResults(results: results, file: url, label: url.path, fromStore: false)
        }
        guard FileManager.default.fileExists(atPath: storePath) else {
            throw .badInput(
                "\(role) \(reference): no such file or folder, and no results store at \(storePath) to look it up in; "
                    + "give a results.json, a run folder, or a run id from `inferbench history` (--store PATH or INFERBENCH_STORE names the store)")
        }
        return try ResultsStore(path: storePath, access: .readOnly).resolveStored(reference, role: role)
    }

    /// The results a reference names (see the static `resolve`), using this store for run ids.
    public func resolve(_ reference: String, role: String = "RESULTS") throws(InferbenchError) -> RunResults {
        if Self.looksLikePath(reference) { return try RunResults.load(path: reference, role: role).0 }
        return try resolveStored(reference, role: role).results
    }

    func resolveStored(_ reference: String, role: String) throws(InferbenchError) -> ResolvedResults {
        let id: String
        if reference == "latest" {
            guard let newest = try runIDs(prefix: "").first else {
                throw .badInput("\(role) latest: the store \(path) holds no runs yet; run `inferbench run` first, or give a results.json")
            }
            id = newest
        } else if try results(runID: reference) != nil {
            id = reference
        } else {
            let matches = try runIDs(prefix: reference)
            guard !matches.isEmpty else {
                throw .badInput(
                    "\(role) \(reference): no such file or folder, and no stored run with that id in \(path); "
                        + "`inferbench history` lists the stored runs, or give a results.json or run folder")
            }
            guard matches.count == 1 else {
                let shown = matches.prefix(5).joined(separator: ", ") + (matches.count > 5 ? ", …" : "")
                throw .badInput("\(role) \(reference): \(matches.count) stored runs start with it (\(shown)); give more of the id")
            }
            id = matches[0]
        }
        guard let results = try results(runID: id) else {
            throw .badInput("\(role) \(reference): run \(id) vanished from \(path) while reading it; try again")
        }
        let file = try resultsPath(runID: id).map { URL(fileURLWithPath: $0) }
        return ResolvedResults(results: results, file: file, label: "store:\(id)", fromStore: true)
    }

    static func looksLikePath(_ reference: String) -> Bool {
        reference.contains("/") || reference.hasSuffix(".json") || FileManager.default.fileExists(atPath: reference)
    }
}
