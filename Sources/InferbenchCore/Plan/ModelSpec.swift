import Foundation

/// A model: a zoo name with parameters (`bert-base:seq=512`) or a user model
/// (`path/to/file.py:build_fn`, or `path/to/model.pt2` with optional parameters:
/// `model.pt2:shape=1x3x224x224,dtype=float32`).
public struct ModelSpec: Codable, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var params: [String: String]

    public init(name: String, params: [String: String] = [:]) {
        self.name = name
        self.params = params
    }

    /// Parses `name[:key=value,key=value]`; a name holding `.py:` is a user model path, and a
    /// `.pt2` path takes its parameters after `.pt2:` (the path itself may hold colons).
    public init(parsing text: String) throws(InferbenchError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .badInput("--model: empty model name; see `inferbench models`") }
        if trimmed.contains(".py:") || trimmed.hasSuffix(".pt2") {
            self.init(name: trimmed)
            return
        }
        let name: Substring
        let rest: Substring?
        if let pt2 = trimmed.range(of: ".pt2:", options: .backwards) {
            name = trimmed[..<pt2.lowerBound] + ".pt2"
            rest = trimmed[pt2.upperBound...]
        } else {
            let parts = trimmed.split(separator: ":", maxSplits: 1)
            name = parts[0]
            rest = parts.count == 2 ? parts[1] : nil
        }
        var params: [String: String] = [:]
        for pair in rest?.split(separator: ",") ?? [] {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, !kv[0].isEmpty else {
                throw .badInput("--model \(text): parameter `\(pair)` is not key=value (e.g. bert-base:seq=512, model.pt2:shape=1x3x224x224)")
            }
            params[String(kv[0])] = String(kv[1])
        }
        self.init(name: String(name), params: params)
    }

    /// Splits `mlp,bert-base:seq=512,batch=2,resnet50` into models: a comma starts a new model
    /// unless what follows is another `key=value` of the model before it (a key has no colon;
    /// a value may: `synthetic:median_ms=2,scale=fp16:0.5`).
    public static func splitList(_ text: String) -> [String] {
        var models: [String] = []
        for part in text.split(separator: ",").map(String.init) {
            if let last = models.last, last.contains(":"), let eq = part.firstIndex(of: "="), !part[..<eq].contains(":") {
                models[models.count - 1] = last + "," + part
            } else {
                models.append(part)
            }
        }
        return models
    }

    /// The parameter a length sweep (`run --seq`) sets: every zoo model with a length axis
    /// names it `seq` (the worker's catalogue says which models have one).
    public static let lengthKey = "seq"

    /// This model at `length` tokens.
    public func at(length: Int) -> ModelSpec {
        var spec = self
        spec.params[Self.lengthKey] = String(length)
        return spec
    }

    /// This model without its length: the key under which one loaded model serves every length.
    public var withoutLength: ModelSpec {
        var spec = self
        spec.params[Self.lengthKey] = nil
        return spec
    }

    /// The length this model is set to, if any.
    public var length: Int? { params[Self.lengthKey].flatMap { Int($0) } }

    /// A recorded model name (`bert-base:seq=128`) without its length; as given when it does
    /// not parse.
    public static func withoutLength(_ model: String) -> String { (try? ModelSpec(parsing: model))?.withoutLength.description ?? model }

    /// The length a recorded model name is set to, if any.
    public static func length(of model: String) -> Int? { (try? ModelSpec(parsing: model))?.length }

    public var isUserModel: Bool { name.contains(".py:") || name.hasSuffix(".pt2") }

    public var description: String {
        guard !params.isEmpty else { return name }
        return name + ":" + params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Edit distance, for "did you mean" suggestions.
public func levenshtein(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// Up to three known names closest to `name`.
public func suggestions(for name: String, among known: [String]) -> [String] {
    let scored = known.map { ($0, levenshtein(name, $0)) }
        .filter { $0.1 <= Swift.max(3, name.count / 2) || $0.0.hasPrefix(name) || name.hasPrefix($0.0) }
    return scored.sorted { $0.1 < $1.1 }.prefix(3).map(\.0)
}
