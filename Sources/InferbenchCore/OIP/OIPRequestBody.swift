import Foundation

/// One request's input tensor: its metadata, the shape it is sent at, and its bytes as the
/// binary-tensor extension carries them (little-endian, row-major).
public struct OIPTensor: Sendable, Equatable {
    public var name: String
    public var datatype: OIPDatatype
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(name: String, datatype: OIPDatatype, shape: [Int], bytes: [UInt8]) {
        (self.name, self.datatype, self.shape, self.bytes) = (name, datatype, shape, bytes)
    }

    public var elementCount: Int { shape.reduce(1, *) }
}

/// Request bodies for `load --target`, made once before the test (the generator then only
/// picks one): `count` samples of every input the model's metadata lists, encoded as the
/// protocol asks.
public enum OIPRequestBody {
    /// Seeded samples of each input: floats uniform in [-1, 1); integers in [0, 1000) (valid
    /// token ids for the usual vocabularies), 1 for an input named like a mask; booleans true.
    /// Throws when an input has a variable dimension besides the batch, or is BYTES.
    public static func synthetic(_ metadata: OIPModelMetadata, count: Int, seed: UInt64) throws(InferbenchError) -> [[OIPTensor]] {
        var rng = SeededGenerator(seed: seed)
        var samples: [[OIPTensor]] = []
        for _ in 0..<count {
            var tensors: [OIPTensor] = []
            for input in metadata.inputs {
                guard let shape = input.oneRequestShape else {
                    throw .badInput(
                        "--target: input \(input.name) of \(metadata.name) has shape \(input.shape) (a variable dimension besides the batch); give --payload-file with samples of the size to send"
                    )
                }
                guard input.datatype != .bytes else {
                    throw .badInput("--target: input \(input.name) of \(metadata.name) is BYTES; give --payload-file with the samples to send")
                }
                let n = shape.reduce(1, *)
                let mask = input.name.lowercased().contains("mask")
                let values = (0..<n).map { _ -> Double in
                    if input.datatype.isFloat { return Double.random(in: -1..<1, using: &rng) }
                    if input.datatype == .bool || mask { return 1 }
                    return Double(rng.next() % 1000)
                }
                tensors.append(OIPTensor(name: input.name, datatype: input.datatype, shape: shape, bytes: encode(values, as: input.datatype)))
            }
            samples.append(tensors)
        }
        return samples
    }

    /// The body and its extra headers for one request of `tensors`, asking for `outputs` (all of
    /// the model's, by name) in the same encoding.
    public static func encode(
        _ tensors: [OIPTensor], outputs: [String], encoding: OIPEncoding, id: String? = nil
    ) -> (body: [UInt8], headers: [(String, String)]) {
        let id: [String: Any] = id.map { ["id": $0] } ?? [:]
        switch encoding {
        case .json:
            let inputs = tensors.map { t -> [String: Any] in
                ["name": t.name, "shape": t.shape, "datatype": t.datatype.rawValue, "data": decode(t.bytes, as: t.datatype)]
            }
            let object = id.merging(["inputs": inputs, "outputs": outputs.map { ["name": $0] }]) { a, _ in a }
            let json = try! JSONSerialization.data(withJSONObject: object)
            return ([UInt8](json), [("Content-Type", "application/json")])
        case .binary:
            let inputs = tensors.map { t -> [String: Any] in
                ["name": t.name, "shape": t.shape, "datatype": t.datatype.rawValue, "parameters": ["binary_data_size": t.bytes.count]]
            }
            let object = id.merging(["inputs": inputs, "outputs": outputs.map { ["name": $0, "parameters": ["binary_data": true]] }]) { a, _ in a }
            let json = [UInt8](try! JSONSerialization.data(withJSONObject: object))
            return (json + tensors.flatMap(\.bytes), [("Content-Type", "application/octet-stream"), (oipHeaderLengthField, String(json.count))])
        }
    }

    /// `values` as `datatype`'s little-endian bytes (floats rounded to half precision for FP16/BF16).
    public static func encode(_ values: [Double], as datatype: OIPDatatype) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * (datatype.size ?? 1))
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        for v in values {
            switch datatype {
            case .bool: out.append(v != 0 ? 1 : 0)
            case .uint8: out.append(UInt8(clamping: Int64(v)))
            case .int8: put(Int8(clamping: Int64(v)))
            case .uint16: put(UInt16(clamping: Int64(v)))
            case .int16: put(Int16(clamping: Int64(v)))
            case .uint32: put(UInt32(clamping: Int64(v)))
            case .int32: put(Int32(clamping: Int64(v)))
            case .uint64: put(UInt64(clamping: Int64(v)))
            case .int64: put(Int64(v))
            case .fp16: put(HalfFloat.bits(Float(v)))
            case .bf16: put(UInt16(truncatingIfNeeded: Float(v).bitPattern >> 16))
            case .fp32: put(Float(v).bitPattern)
            case .fp64, .bytes: put(v.bitPattern)
            }
        }
        return out
    }

    /// `bytes` of `datatype` as JSON numbers (booleans as true/false).
    public static func decode(_ bytes: [UInt8], as datatype: OIPDatatype) -> [Any] {
        guard let size = datatype.size, size > 0 else { return [] }
        return stride(from: 0, to: bytes.count - size + 1, by: size).map { i -> Any in
            func read<T: FixedWidthInteger>(_: T.Type) -> T {
                var v: T = 0
                withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[i..<i + size]) }
                return T(littleEndian: v)
            }
            switch datatype {
            case .bool: return bytes[i] != 0
            case .uint8: return Int(bytes[i])
            case .int8: return Int(Int8(bitPattern: bytes[i]))
            case .uint16: return Int(read(UInt16.self))
            case .int16: return Int(read(Int16.self))
            case .uint32: return Int(read(UInt32.self))
            case .int32: return Int(read(Int32.self))
            case .uint64: return read(UInt64.self)
            case .int64: return Int(read(Int64.self))
            case .fp16: return Double(HalfFloat.value(read(UInt16.self)))
            case .bf16: return Double(Float(bitPattern: UInt32(read(UInt16.self)) << 16))
            case .fp32: return Double(Float(bitPattern: read(UInt32.self)))
            case .fp64: return Double(bitPattern: read(UInt64.self))
            case .bytes: return 0
            }
        }
    }
}

/// IEEE 754 half precision by hand: `Float16` is missing on some platforms Swift builds for.
enum HalfFloat {
    static func bits(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF) - 127 + 15
        let mantissa = x & 0x7F_FFFF
        if (x >> 23) & 0xFF == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0) }
        if exponent >= 31 { return sign | 0x7C00 }
        if exponent <= 0 {
            guard exponent >= -10 else { return sign }
            // Subnormal: the implicit 1 joins the mantissa, shifted down (truncated).
            return sign | UInt16((mantissa | 0x80_0000) >> UInt32(14 - exponent))
        }
        // Round to nearest even on the 13 bits dropped.
        var half = UInt32(exponent) << 10 | (mantissa >> 13)
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(truncatingIfNeeded: half)
    }

    static func value(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = Float(h & 0x3FF)
        if exponent == 0 { return sign * mantissa * powf(2, -24) }
        if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
        return sign * (1 + mantissa / 1024) * powf(2, Float(exponent - 15))
    }
}
