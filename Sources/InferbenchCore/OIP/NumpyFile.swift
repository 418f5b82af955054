import Foundation

/// The arrays of a `.npy` file, or of a `.npz` archive written by `np.savez` (stored, not
/// compressed), read in Swift: `load --target --payload-file` sends their samples to a server,
/// with no worker to read them.
public struct NumpyArray: Sendable, Equatable {
    public var datatype: OIPDatatype
    public var shape: [Int]
    /// Little-endian, C order.
    public var bytes: [UInt8]
}

public enum NumpyFile {
    /// The arrays by name: a `.npy` file's one array under "", a `.npz` archive's by member name
    /// (without `.npy`).
    public static func read(path: String) throws(InferbenchError) -> [String: NumpyArray] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badInput("--payload-file \(path): cannot read it; give a readable .npy or .npz file")
        }
        let bytes = [UInt8](data)
        if path.lowercased().hasSuffix(".npz") {
            var arrays: [String: NumpyArray] = [:]
            for (name, member) in try members(bytes, path: path) {
                let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
                arrays[key] = try array(member, path: "\(path):\(name)")
            }
            return arrays
        }
        return ["": try array(bytes[...], path: path)]
    }

    /// One `.npy` image: magic, version, a header dict, then the data.
    static func array(_ b: ArraySlice<UInt8>, path: String) throws(InferbenchError) -> NumpyArray {
        let s = b.startIndex
        guard b.count >= 10, Array(b[s..<s + 6]) == [0x93] + Array("NUMPY".utf8) else {
            throw .badInput("--payload-file \(path): not a .npy array (no \\x93NUMPY magic); save it with np.save or np.savez")
        }
        let major = b[s + 6]
        let wide = major >= 2
        let lengthBytes = wide ? 4 : 2
        guard b.count >= 8 + lengthBytes else { throw .badInput("--payload-file \(path): the .npy header is cut short") }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(b[s + 8 + i]) << (8 * i) }
        let start = s + 8 + lengthBytes
        guard b.endIndex >= start + headerLength else { throw .badInput("--payload-file \(path): the .npy header is cut short") }
        let header = String(decoding: b[start..<start + headerLength], as: UTF8.self)
        guard let descr = header.firstMatch(of: /'descr':\s*'([<>|=])([a-z])(\d+)'/),
            let shapeText = header.firstMatch(of: /'shape':\s*\(([^)]*)\)/)
        else { throw .badInput("--payload-file \(path): cannot read the .npy header \(header.prefix(120))") }
        if header.contains("'fortran_order': True") { throw .badInput("--payload-file \(path): Fortran order; save a C-ordered array (np.ascontiguousarray)") }
        if descr.output.1 == ">" { throw .badInput("--payload-file \(path): big-endian data; save it little-endian (arr.astype(arr.dtype.newbyteorder('<')))") }
        let kind = "\(descr.output.2)\(descr.output.3)"
        guard let datatype = Self.datatypes[kind] else {
            throw .badInput("--payload-file \(path): dtype \(kind) has no Open Inference Protocol datatype; save numbers or booleans")
        }
        let shape = shapeText.output.1.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let size = shape.reduce(1, *) * (datatype.size ?? 1)
        let data = start + headerLength
        guard b.endIndex - data >= size else {
            throw .badInput("--payload-file \(path): shape \(shape) of \(kind) needs \(size) bytes, the file holds \(b.endIndex - data)")
        }
        return NumpyArray(datatype: datatype, shape: shape, bytes: Array(b[data..<data + size]))
    }

    static let datatypes: [String: OIPDatatype] = [
        "b1": .bool, "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
        "f2": .fp16, "f4": .fp32, "f8": .fp64,
    ]

    /// The members of a zip archive, from its central directory; each must be stored (np.savez),
    /// not deflated (np.savez_compressed).
    static func members(_ b: [UInt8], path: String) throws(InferbenchError) -> [(String, ArraySlice<UInt8>)] {
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        let bad = InferbenchError.badInput("--payload-file \(path): not a readable .npz (zip) archive; save it with np.savez")
        guard b.count >= 22, let end = stride(from: b.count - 22, through: max(0, b.count - 22 - 65_535), by: -1).first(where: { u32($0) == 0x0605_4b50 })
        else { throw bad }
        var at = u32(end + 16)
        var out: [(String, ArraySlice<UInt8>)] = []
        for _ in 0..<u16(end + 10) {
            guard at + 46 <= b.count, u32(at) == 0x0201_4b50 else { throw bad }
            let (method, size, nameLength) = (u16(at + 10), u32(at + 20), u16(at + 28))
            let (extra, comment, local) = (u16(at + 30), u16(at + 32), u32(at + 42))
            guard at + 46 + nameLength <= b.count else { throw bad }
            let name = String(decoding: b[at + 46..<at + 46 + nameLength], as: UTF8.self)
            if method != 0 { throw .badInput("--payload-file \(path): \(name) is compressed (np.savez_compressed); save it with np.savez") }
            if size == 0xFFFF_FFFF { throw .badInput("--payload-file \(path): \(name) is over 4 GB (zip64); give fewer samples") }
            guard local + 30 <= b.count, u32(local) == 0x0403_4b50 else { throw bad }
            let data = local + 30 + u16(local + 26) + u16(local + 28)
            guard data + size <= b.count else { throw bad }
            out.append((name, b[data..<data + size]))
            at += 46 + nameLength + extra + comment
        }
        return out
    }

    /// The samples of `arrays` for `model`'s inputs, as request tensors: one input from a `.npy`
    /// array, or each input from the `.npz` member of its name; each array `[N, …sample]` or one
    /// sample; numbers cast to the input's datatype. A shape the model does not take is bad input
    /// naming the shape it takes.
    public static func samples(_ arrays: [String: NumpyArray], for model: OIPModelMetadata, path: String) throws(InferbenchError) -> [[OIPTensor]] {
        var perInput: [[OIPTensor]] = []
        for input in model.inputs {
            guard let array = arrays[input.name] ?? (model.inputs.count == 1 ? arrays[""] : nil) else {
                let given = arrays.keys.sorted().map { $0.isEmpty ? "one array (.npy)" : $0 }.joined(separator: ", ")
                throw .badInput(
                    "--payload-file \(path): no array for input \(input.name) (it holds \(given)); \(model.name) takes \(model.inputs.map(\.name).joined(separator: ", "))"
                )
            }
            if input.datatype == .bytes { throw .badInput("--payload-file \(path): input \(input.name) is BYTES, which a .npy array cannot hold") }
            // The metadata's sample: a leading -1 is the batch; another -1 takes the file's size.
            let batched = input.shape.first == -1
            let meta = batched ? Array(input.shape.dropFirst()) : input.shape
            let fits = { (x: [Int]) in x.count == meta.count && zip(meta, x).allSatisfy { $0 < 0 || $0 == $1 } }
            let (count, sample): (Int, [Int])
            if fits(array.shape) {
                (count, sample) = (1, array.shape)
            } else if array.shape.count == meta.count + 1, fits(Array(array.shape.dropFirst())), array.shape[0] > 0 {
                (count, sample) = (array.shape[0], Array(array.shape.dropFirst()))
            } else {
                let takes = meta.map { $0 < 0 ? "any" : String($0) }.joined(separator: ", ")
                throw .badInput(
                    "--payload-file \(path): \(input.name) has shape \(array.shape); \(model.name) takes [N, \(takes)] or one sample [\(takes)]")
            }
            let stride = array.bytes.count / count
            perInput.append(
                (0..<count).map { i in
                    let raw = Array(array.bytes[i * stride..<(i + 1) * stride])
                    let bytes = array.datatype == input.datatype ? raw : OIPRequestBody.encode(values(raw, as: array.datatype), as: input.datatype)
                    return OIPTensor(name: input.name, datatype: input.datatype, shape: batched ? [1] + sample : sample, bytes: bytes)
                })
        }
        let n = perInput.map(\.count).min() ?? 0
        return (0..<n).map { i in perInput.map { $0[i] } }
    }

    /// Little-endian values as numbers, for a cast.
    static func values(_ bytes: [UInt8], as datatype: OIPDatatype) -> [Double] {
        OIPRequestBody.decode(bytes, as: datatype).map { v in
            switch v {
            case let d as Double: return d
            case let i as Int: return Double(i)
            case let u as UInt64: return Double(u)
            case let b as Bool: return b ? 1 : 0
            default: return 0
            }
        }
    }
}
