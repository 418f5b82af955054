import Foundation

extension RunResults {
    /// Reads the results named on a command line: a `results.json` path or a run folder holding one.
    ///
    /// Returns the results and the file they came from. A missing path, a folder without
    /// `results.json`, a file that is not results JSON and an unknown schema are bad input
    /// (exit 64), each with a message that names the path and what to give instead. Extra
    /// fields written by a newer inferbench are not an error: they are ignored.
    public static func load(path: String, role: String = "RESULTS") throws(InferbenchError) -> (RunResults, URL) {
        let url = try locate(path: path, role: role)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .badInput("\(role) \(url.path): cannot read the file (\(error.localizedDescription))")
        }
        if let head = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let schema = head["schema"] as? String,
            schema != schemaID
        {
            throw .badInput("\(role) \(url.path): schema \(schema) is not \(schemaID); use the inferbench version that wrote it")
        }
        do {
            return (try decoder().decode(RunResults.self, from: data), url)
        } catch let error as DecodingError {
            throw .badInput("\(role) \(url.path): not an inferbench results file (\(describe(error)))")
        } catch {
            throw .badInput("\(role) \(url.path): not an inferbench results file (\(error.localizedDescription))")
        }
    }

    /// The `results.json` a path names: the file itself, or `results.json` inside a folder.
    public static func locate(path: String, role: String = "RESULTS") throws(InferbenchError) -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .badInput("\(role) \(path): no such file or folder; give a results.json or the run folder that holds it (e.g. results/<run>)")
        }
        let url = URL(fileURLWithPath: path)
        guard isDirectory.boolValue else { return url }
        let inside = url.appending(path: "results.json")
        guard FileManager.default.fileExists(atPath: inside.path) else {
            throw .badInput("\(role) \(path): the folder holds no results.json; give a run folder written by `inferbench run --out`")
        }
        return inside
    }

    /// "cells[2].latency_ms.p50: expected a number" from a decoding error.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "top level" : text)
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
