import Foundation
import Testing

@testable import InferbenchCore

/// The contract between the Swift decoder and the Python worker, checked on golden transcripts
/// that the real worker wrote (`python/tests/test_transcripts.py`; rewrite them with
/// `INFERBENCH_UPDATE_TRANSCRIPTS=1 .venv/bin/python -m pytest python/tests/test_transcripts.py`).
///
/// Each line is `{"request": ..., "reply": ...}`. A key the worker sends that Swift does not
/// decode is found by probing: the key's value is replaced by a value no Swift type accepts
/// (`[[[]]]`) and the reply decoded again; if that still succeeds, Swift never read the key.
/// Probing also covers keys whose value is null in a transcript, which decoding and encoding
/// again would lose.
@Suite struct ProtocolTranscriptTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appending(path: "Fixtures").appending(path: "transcripts")

    /// Keys the worker sends that Swift deliberately does not decode, as "op.path.to.key".
    /// Keep it short: every entry is a field one side sends and the other drops.
    static let ignoredKeys: Set<String> = []

    struct Line {
        var file: String
        var number: Int
        var request: Any  // the request object, or the raw line for one no Swift type makes
        var reply: [String: Any]

        var op: String? { (request as? [String: Any])?["op"] as? String }
        var args: [String: Any] { (request as? [String: Any])?["args"] as? [String: Any] ?? [:] }
        var ok: Bool { reply["ok"] as? Bool ?? false }
    }

    static func lines() throws -> [Line] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".jsonl") }.sorted()
        var out: [Line] = []
        for file in files {
            let text = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
            for (n, raw) in text.split(separator: "\n").enumerated() {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any])
                out.append(
                    Line(
                        file: file, number: n + 1, request: object["request"] as Any,
                        reply: try #require(object["reply"] as? [String: Any])))
            }
        }
        return out
    }

    /// Decodes a reply to `line`'s request as `Worker.call` does: the op's result type, or,
    /// for an error reply, the envelope alone.
    static func decode(_ reply: [String: Any], for line: Line) throws {
        let data = try JSONSerialization.data(withJSONObject: reply)
        let decoder = JSONDecoder()
        func as_<T: Decodable>(_: T.Type) throws { _ = try decoder.decode(WorkerReply<T>.self, from: data) }
        guard line.ok, let op = line.op.flatMap(WorkerOp.init(rawValue:)) else {
            return try as_(NoArgs.self)
        }
        switch op {
        case .hello: try as_(HelloResult.self)
        case .models: try as_([ZooEntry].self)
        case .check: try as_(ModelCheck.self)
        case .load: try as_(LoadResult.self)
        case .measure:
            if line.args["mode"] as? String == "throughput" { try as_(ThroughputChunk.self) } else { try as_(LatencyChunk.self) }
        case .infer: try as_(InferResult.self)
        case .verify: try as_(VerifyResult.self)
        case .memory: try as_(MemoryResult.self)
        case .unload, .shutdown: try as_(NoArgs.self)
        case .smoke: try as_(SmokeResult.self)
        case .payloadOpen: try as_(PayloadLayout.self)
        }
    }

    /// Every key path in a JSON value, with a function that returns the value with that key's
    /// value replaced.
    static func keyPaths(_ value: Any, path: String = "") -> [(path: String, replacing: (Any) -> Any)] {
        var out: [(path: String, replacing: (Any) -> Any)] = []
        if let object = value as? [String: Any] {
            for (key, child) in object {
                let here = path.isEmpty ? key : "\(path).\(key)"
                out.append(
                    (
                        here,
                        { new in
                            var copy = object
                            copy[key] = new
                            return copy
                        }
                    ))
                for (sub, replace) in keyPaths(child, path: here) {
                    out.append(
                        (
                            sub,
                            { new in
                                var copy = object
                                copy[key] = replace(new)
                                return copy
                            }
                        ))
                }
            }
        } else if let array = value as? [Any] {
            for (i, child) in array.enumerated() {
                for (sub, replace) in keyPaths(child, path: "\(path)[]") {
                    out.append(
                        (
                            sub,
                            { new in
                                var copy = array
                                copy[i] = replace(new)
                                return copy
                            }
                        ))
                }
            }
        }
        return out
    }

    /// A value that no decodable field accepts: not a string, number, bool, object, or a list
    /// of any of those.
    static var unacceptable: Any { [[[Any]()]] }

    @Test func transcriptsCoverEveryOpAndErrorKind() throws {
        let lines = try Self.lines()
        #expect(lines.count > 20)
        let ops = Set(lines.filter(\.ok).compactMap(\.op))
        #expect(ops == ["hello", "models", "check", "load", "measure", "infer", "verify", "memory", "unload", "shutdown", "payload_open"])
        let kinds = Set(lines.compactMap { ($0.reply["error"] as? [String: Any])?["kind"] as? String })
        // oom cannot be caused honestly on a CPU; smoke needs an Inductor build (tens of seconds).
        #expect(kinds == Set(["bad_request", "unsupported", "missing_dependency", "compile", "internal"]))
    }

    @Test func everyReplyDecodes() throws {
        for line in try Self.lines() {
            #expect(throws: Never.self, "\(line.file):\(line.number)") { try Self.decode(line.reply, for: line) }
        }
    }

    @Test func swiftDecodesEveryKeyTheWorkerSends() throws {
        var dropped: [String] = []
        for line in try Self.lines() {
            for (path, replace) in Self.keyPaths(line.reply) {
                let name = "\(line.op ?? "?").\(path)"
                guard !Self.ignoredKeys.contains(name) else { continue }
                let probed = try #require(replace(Self.unacceptable) as? [String: Any])
                if (try? Self.decode(probed, for: line)) != nil {
                    dropped.append("\(line.file):\(line.number) \(name)")
                }
            }
        }
        #expect(dropped.isEmpty, "keys the worker sends and Swift ignores:\n\(dropped.joined(separator: "\n"))")
    }

    @Test func theProbeFindsAKeySwiftIgnores() throws {
        let line = Line(
            file: "-", number: 0, request: ["id": 1, "op": "infer", "args": [:] as [String: Any]],
            reply: ["id": 1, "ok": true, "result": ["host_ns": 5, "device_ns": NSNull(), "extra": 1]])
        let dropped = Self.keyPaths(line.reply).filter { path, replace in
            (try? Self.decode(replace(Self.unacceptable) as! [String: Any], for: line)) != nil
        }
        #expect(dropped.map(\.path) == ["result.extra"])
    }

    /// The requests in the transcripts are those the Swift types encode, so the worker's
    /// accepting them (an ok reply) says it accepts what Swift sends.
    @Test func everyAcceptedRequestIsWhatSwiftEncodes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func roundTrip<T: Codable>(_: T.Type, _ args: [String: Any]) throws -> Data {
            try encoder.encode(try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: args)))
        }
        var checked = 0
        for line in try Self.lines() where line.ok {
            let op = try #require(line.op.flatMap(WorkerOp.init(rawValue:)), "\(line.file):\(line.number)")
            let encoded: Data
            switch op {
            case .hello, .models, .unload, .shutdown: encoded = try roundTrip(NoArgs.self, line.args)
            case .check: encoded = try roundTrip(CheckArgs.self, line.args)
            case .load: encoded = try roundTrip(LoadArgs.self, line.args)
            case .measure: encoded = try roundTrip(MeasureArgs.self, line.args)
            case .infer: encoded = try roundTrip(InferArgs.self, line.args)
            case .verify: encoded = try roundTrip(BatchArgs.self, line.args)
            case .memory: encoded = try roundTrip(MemoryArgs.self, line.args)
            case .smoke: encoded = try roundTrip(SmokeArgs.self, line.args)
            case .payloadOpen: encoded = try roundTrip(PayloadOpenArgs.self, line.args)
            }
            let sent = try JSONSerialization.data(withJSONObject: line.args, options: [.sortedKeys])
            let swift = try JSONSerialization.data(
                withJSONObject: JSONSerialization.jsonObject(with: encoded), options: [.sortedKeys])
            #expect(
                String(decoding: swift, as: UTF8.self) == String(decoding: sent, as: UTF8.self),
                "\(line.file):\(line.number) \(op.rawValue)")
            checked += 1
        }
        #expect(checked > 15)
    }
}
