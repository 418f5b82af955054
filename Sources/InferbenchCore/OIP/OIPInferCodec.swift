import Foundation

/// `inferbench serve`'s side of an infer call: a request body checked against the model's
/// metadata and turned into one sample's bytes per input, and the response made from the
/// request's own rows of the outputs.
public enum OIPInferCodec {
    /// A request the server refuses, with the status it answers and the protocol's error body.
    public struct Refusal: Error, Equatable {
        public var status: Int
        public var message: String
        public init(_ status: Int, _ message: String) { (self.status, self.message) = (status, message) }
    }

    public struct Decoded: Sendable {
        /// One sample's bytes of each of the model's inputs, in the metadata's order.
        public var inputs: [[UInt8]]
        public var id: String?
        /// The outputs asked for (nil: all), and whether they go back as binary tensors.
        public var outputs: [String]?
        public var binaryOutputs: Bool
    }

    /// Decodes `body` (JSON, or JSON then tensors when `headerLength` is given) for `model`,
    /// whose every tensor takes one sample a request: shape `[1, …]` or the sample's own shape.
    public static func decode(_ body: [UInt8], headerLength: Int?, model: OIPModelMetadata) throws(Refusal) -> Decoded {
        let jsonEnd = headerLength ?? body.count
        guard jsonEnd >= 0, jsonEnd <= body.count else {
            throw Refusal(400, "\(oipHeaderLengthField) \(jsonEnd) is beyond the body's \(body.count) bytes")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body[..<jsonEnd])) as? [String: Any] else {
            throw Refusal(400, "the body is not a JSON object (an inference request: {\"inputs\": [...]})")
        }
        guard let given = object["inputs"] as? [[String: Any]] else { throw Refusal(400, "the request has no \"inputs\" list") }
        for g in given {
            let name = g["name"] as? String ?? "(unnamed)"
            if !model.inputs.contains(where: { $0.name == name }) {
                throw Refusal(400, "input \(name): \(model.name) takes \(model.inputs.map(\.name).joined(separator: ", "))")
            }
        }
        var binaryAt = jsonEnd
        var inputs: [[UInt8]] = []
        for meta in model.inputs {
            guard let g = given.first(where: { ($0["name"] as? String) == meta.name }) else {
                throw Refusal(400, "input \(meta.name) is missing: \(model.name) takes \(model.inputs.map(\.name).joined(separator: ", "))")
            }
            inputs.append(try tensor(g, meta: meta, body: body, binaryAt: &binaryAt))
        }
        guard binaryAt == body.count else { throw Refusal(400, "\(body.count - binaryAt) bytes after the tensors the request describes") }
        let parameters = object["parameters"] as? [String: Any]
        let asked = object["outputs"] as? [[String: Any]]
        let names = asked?.compactMap { $0["name"] as? String }
        for name in names ?? [] where !model.outputs.contains(where: { $0.name == name }) {
            throw Refusal(400, "output \(name): \(model.name) gives \(model.outputs.map(\.name).joined(separator: ", "))")
        }
        let binary =
            (parameters?["binary_data_output"] as? Bool) == true
            || (asked ?? []).contains { (($0["parameters"] as? [String: Any])?["binary_data"] as? Bool) == true }
        return Decoded(inputs: inputs, id: object["id"] as? String, outputs: names, binaryOutputs: binary)
    }

    /// One input's bytes, checked against its metadata.
    static func tensor(_ g: [String: Any], meta: OIPTensorMetadata, body: [UInt8], binaryAt: inout Int) throws(Refusal) -> [UInt8] {
        guard let type = (g["datatype"] as? String).flatMap(OIPDatatype.init(rawValue:)), type == meta.datatype else {
            throw Refusal(400, "input \(meta.name) is \(g["datatype"] as? String ?? "without a datatype"); the model takes \(meta.datatype.rawValue)")
        }
        let sample = Array(meta.shape.drop { $0 == -1 })
        guard let shape = g["shape"] as? [Int], shape == [1] + sample || shape == sample else {
            throw Refusal(
                400, "input \(meta.name) has shape \((g["shape"] as? [Int]).map { "\($0)" } ?? "none"); the model takes \([1] + sample) (one sample a request)")
        }
        let count = sample.reduce(1, *)
        let itemsize = meta.datatype.size ?? 1
        if let size = (g["parameters"] as? [String: Any])?["binary_data_size"] as? Int {
            guard size == count * itemsize, binaryAt + size <= body.count else {
                throw Refusal(400, "input \(meta.name): binary_data_size \(size); shape \(shape) of \(type.rawValue) is \(count * itemsize) bytes")
            }
            defer { binaryAt += size }
            return Array(body[binaryAt..<binaryAt + size])
        }
        guard let data = g["data"] as? [Any] else { throw Refusal(400, "input \(meta.name) carries neither data nor binary_data_size") }
        var values: [Double] = []
        values.reserveCapacity(count)
        guard flatten(data, into: &values), values.count == count else {
            throw Refusal(400, "input \(meta.name): data is not \(count) numbers (shape \(shape))")
        }
        return OIPRequestBody.encode(values, as: type)
    }

    /// Appends the numbers of a possibly nested JSON array; false at anything else.
    static func flatten(_ data: [Any], into values: inout [Double]) -> Bool {
        for item in data {
            if let nested = item as? [Any] {
                guard flatten(nested, into: &values) else { return false }
            } else if let n = item as? NSNumber {
                values.append(n.doubleValue)  // true and false too: 1 and 0
            } else if let b = item as? Bool {
                values.append(b ? 1 : 0)
            } else {
                return false
            }
        }
        return true
    }

    /// The response body (and its header length, for binary outputs) carrying `outputs`, the
    /// request's own row of each of the model's outputs.
    public static func response(
        model: OIPModelMetadata, id: String?, outputs rows: [[UInt8]], asked: [String]?, binary: Bool
    ) -> (body: [UInt8], headerLength: Int?) {
        var described: [[String: Any]] = []
        var tail: [UInt8] = []
        for (meta, bytes) in zip(model.outputs, rows) where asked?.contains(meta.name) ?? true {
            var o: [String: Any] = ["name": meta.name, "datatype": meta.datatype.rawValue, "shape": [1] + meta.shape.drop { $0 == -1 }]
            if binary {
                o["parameters"] = ["binary_data_size": bytes.count]
                tail += bytes
            } else {
                o["data"] = OIPRequestBody.decode(bytes, as: meta.datatype)
            }
            described.append(o)
        }
        var object: [String: Any] = ["model_name": model.name, "model_version": "1", "outputs": described]
        if let id { object["id"] = id }
        let json = [UInt8]((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        return binary ? (json + tail, json.count) : (json, nil)
    }
}
