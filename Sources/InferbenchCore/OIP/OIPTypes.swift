import Foundation

/// The Open Inference Protocol's tensor datatypes (KServe v2, Triton), with their width.
public enum OIPDatatype: String, Codable, Sendable, CaseIterable {
    case bool = "BOOL", uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", bf16 = "BF16", fp32 = "FP32", fp64 = "FP64", bytes = "BYTES"

    /// Bytes per element in the binary-tensor extension; nil for BYTES (length-prefixed strings).
    public var size: Int? {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .uint16, .int16, .fp16, .bf16: return 2
        case .uint32, .int32, .fp32: return 4
        case .uint64, .int64, .fp64: return 8
        case .bytes: return nil
        }
    }

    public var isFloat: Bool { [.fp16, .bf16, .fp32, .fp64].contains(self) }

    /// The datatype of a NumPy/PyTorch dtype name as the worker names them (`float16`, `int64`).
    public init?(torchName: String) {
        let table: [String: OIPDatatype] = [
            "bool": .bool, "uint8": .uint8, "int8": .int8, "int16": .int16, "int32": .int32, "int64": .int64, "float16": .fp16,
            "bfloat16": .bf16, "float32": .fp32, "float64": .fp64, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
        ]
        guard let d = table[torchName.replacingOccurrences(of: "torch.", with: "")] else { return nil }
        self = d
    }
}

/// One tensor as a model's metadata describes it: -1 marks a dimension of any size (the batch).
public struct OIPTensorMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var datatype: OIPDatatype
    public var shape: [Int]

    public init(name: String, datatype: OIPDatatype, shape: [Int]) {
        (self.name, self.datatype, self.shape) = (name, datatype, shape)
    }
}

/// `GET /v2/models/{name}`: what a model takes and gives.
public struct OIPModelMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var versions: [String]?
    public var platform: String?
    public var inputs: [OIPTensorMetadata]
    public var outputs: [OIPTensorMetadata]

    public init(name: String, versions: [String]? = nil, platform: String?, inputs: [OIPTensorMetadata], outputs: [OIPTensorMetadata]) {
        (self.name, self.versions, self.platform, self.inputs, self.outputs) = (name, versions, platform, inputs, outputs)
    }
}

/// `GET /v2`: the server's own name and version.
public struct OIPServerMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var extensions: [String]?

    public init(name: String, version: String, extensions: [String]?) { (self.name, self.version, self.extensions) = (name, version, extensions) }
}

/// The protocol's error body: `{"error": "..."}`.
public struct OIPError: Codable, Sendable {
    public var error: String
    public init(_ error: String) { self.error = error }
}

/// How request tensors travel: JSON numbers, or raw bytes after a JSON header (the
/// binary-tensor extension, `Inference-Header-Content-Length`).
public enum OIPEncoding: String, Codable, Sendable, CaseIterable {
    case json, binary
}

/// The header that splits a binary-extension body into its JSON part and its tensors' bytes.
public let oipHeaderLengthField = "Inference-Header-Content-Length"

extension OIPTensorMetadata {
    /// The shape of one request's tensor: the leading -1 (the batch) as 1; nil when another
    /// dimension is variable (the request's size is then the user's to give).
    public var oneRequestShape: [Int]? {
        var shape = shape
        if shape.first == -1 { shape[0] = 1 }
        return shape.contains(where: { $0 < 0 }) ? nil : shape
    }

    /// Whether `actual` (a response's shape) fits this metadata shape: same rank, every fixed
    /// dimension equal.
    public func accepts(shape actual: [Int]) -> Bool {
        actual.count == shape.count && zip(shape, actual).allSatisfy { $0 < 0 || $0 == $1 }
    }
}
