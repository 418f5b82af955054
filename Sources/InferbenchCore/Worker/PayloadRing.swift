import Foundation

#if canImport(Glibc)
    import Glibc
    private let closeFile = Glibc.close
#elseif canImport(Darwin)
    import Darwin
    private let closeFile = Darwin.close
#endif

/// Where a load test's inputs come from (`load --payload`).
public enum PayloadMode: String, Codable, Sendable, CaseIterable {
    /// Each request's bytes travel from inferbench's memory through a shared-memory ring to the
    /// worker, which copies each batch to the device (and its outputs back): what a server pays.
    case host
    /// Inputs made once on the device by the worker: the compute-only ceiling.
    case device
}

/// The shared-memory file a worker made for `payload_open` and how it is laid out (the
/// worker's reply; docs/protocol.md). Offsets are bytes from the start of the file.
public struct PayloadLayout: Codable, Sendable, Equatable {
    /// One input tensor of the model, per sample, at the loaded length.
    public struct Input: Codable, Sendable, Equatable {
        public var name: String?
        public var dtype: String
        public var itemsize: Int
        public var shape: [Int]
    }

    /// Samples the worker made with the model's own input factory (valid token ids, images),
    /// `count` of them at `length` (nil: the loaded shape), one after another; a sample is each
    /// input's bytes in turn.
    public struct Pool: Codable, Sendable, Equatable {
        public var length: Int?
        public var offset: Int
        public var count: Int
        public var sampleBytes: [Int]

        enum CodingKeys: String, CodingKey {
            case length, offset, count
            case sampleBytes = "sample_bytes"
        }
    }

    public var path: String
    public var size: Int
    /// Registered with CUDA as page-locked memory, so that copies to the device are DMA.
    public var pinned: Bool
    public var inputs: [Input]
    /// For each input, the dims of its per-sample shape that are the length axis.
    public var lengthDims: [[Int]]
    public var pools: [Pool]
    public var slotsOffset: Int
    public var slotStride: Int
    public var inputCapacity: Int
    public var outputOffset: Int
    public var outputCapacity: Int
    /// Each output of one sample at the loaded shape (named `output0`, …), so that each
    /// request's rows of a batch's outputs can be handed back to it; absent from older workers.
    public var outputs: [Input]?

    enum CodingKeys: String, CodingKey {
        case path, size, pinned, inputs, pools, outputs
        case lengthDims = "length_dims"
        case slotsOffset = "slots_offset"
        case slotStride = "slot_stride"
        case inputCapacity = "input_capacity"
        case outputOffset = "output_offset"
        case outputCapacity = "output_capacity"
    }

    /// Bytes of one sample of input `i` at `length` (nil: as loaded).
    func sampleBytes(_ i: Int, length: Int?) -> Int {
        var shape = inputs[i].shape
        if let length { for d in lengthDims[i] where d < shape.count { shape[d] = length } }
        return shape.reduce(inputs[i].itemsize, *)
    }

    /// A 1-D input along the length axis (token ids, masks): a shorter request is a prefix of a
    /// longer sample, padded with zeros (what a tokenizer's padding does).
    func isTokenRow(_ i: Int) -> Bool { inputs[i].shape.count == 1 && lengthDims[i] == [0] }

    static func aligned(_ n: Int) -> Int { (n + 63) & ~63 }
}

/// `payload_open`'s arguments.
struct PayloadOpenArgs: Codable, Sendable {
    var slots: Int
    var maxBatch: Int
    var lengths: [Int]
    var pool: Int
    /// `--payload-file`: the worker reads its samples from this .npy/.npz file.
    var file: String? = nil
    enum CodingKeys: String, CodingKey {
        case slots, lengths, pool, file
        case maxBatch = "max_batch"
    }
}

/// `infer`'s `payload`: the batch's inputs wait in ring slot `slot`, `rows` of them real.
struct PayloadCall: Codable, Sendable {
    var slot: Int
    var rows: Int
    var checksum: Bool
}

/// inferbench's side of a worker's payload ring: it writes each batch's requests into a free
/// slot (every request's bytes copied from inferbench's memory, padding rows zeroed) and reads
/// the outputs back, as a server copies between its sockets and the device's staging buffers.
///
/// Owned by one ``WorkerReplica`` (an actor), so it needs no lock of its own.
final class PayloadRing {
    let layout: PayloadLayout
    private let base: UnsafeMutableRawPointer
    /// The pools' samples, copied out of the file: a request's bytes live in inferbench's memory.
    private let pools: [[UInt8]]
    private var free: [Int]
    private var rotation = 0
    private var scratch: [UInt8]
    /// A batch still in flight on a worker that died may come back after its ring is closed.
    private var closed = false

    init(_ layout: PayloadLayout, slots: Int) throws(InferbenchError) {
        let fd = open(layout.path, O_RDWR)
        guard fd >= 0 else { throw .worker("payload ring \(layout.path): \(String(cString: strerror(errno)))") }
        defer { _ = closeFile(fd) }
        guard let p = mmap(nil, layout.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw .worker("payload ring \(layout.path): mmap failed: \(String(cString: strerror(errno)))")
        }
        base = p
        self.layout = layout
        pools = layout.pools.map { pool in
            let bytes = pool.count * pool.sampleBytes.reduce(0, +)
            return [UInt8](UnsafeRawBufferPointer(start: p + pool.offset, count: bytes))
        }
        free = Array(0..<slots)
        scratch = [UInt8](repeating: 0, count: layout.outputCapacity)
    }

    /// Unmaps and removes the file (the worker removes it too when it exits cleanly; a killed
    /// one leaves it to this).
    func close() {
        guard !closed else { return }
        closed = true
        munmap(base, layout.size)
        unlink(layout.path)
    }

    func acquire() -> Int? { free.popLast() }
    func release(_ slot: Int) { free.append(slot) }

    /// Writes a batch of `rows` (each the request's own length, nil: the batch's) padded to
    /// `batch` rows at `length` into `slot`; with `checksum`, returns the CRC-32 of the real
    /// rows' bytes, block by block, as the worker computes it on arrival (a check of the path at
    /// warm-up: at serving rates the CRC would cost more than the copy).
    func gather(slot: Int, rows: [Int?], batch: Int, length: Int?, checksum: Bool = false) throws(InferbenchError) -> UInt32? {
        guard !closed else { throw .worker("payload ring: closed (its worker stopped)") }
        let (pool, poolIndex) = try poolFor(length)
        let start = base + layout.slotsOffset + slot * layout.slotStride
        var offset = 0
        var crc = CRC32()
        let firstSample = rotation
        rotation += rows.count
        for i in layout.inputs.indices {
            let rowBytes = layout.sampleBytes(i, length: length)
            guard offset + batch * rowBytes <= layout.inputCapacity else {
                throw .worker("payload ring: a batch of \(batch) at \(length.map(String.init) ?? "the loaded length") exceeds the slot")
            }
            let inOffset = pool.sampleBytes[..<i].reduce(0, +)
            let sampleStride = pool.sampleBytes.reduce(0, +)
            for (r, rowLength) in rows.enumerated() {
                let dst = start + offset + r * rowBytes
                let sample = (firstSample + r) % pool.count
                var copy = min(rowBytes, pool.sampleBytes[i])
                if layout.isTokenRow(i), let rowLength { copy = min(copy, rowLength * layout.inputs[i].itemsize) }
                pools[poolIndex].withUnsafeBytes { src in
                    dst.copyMemory(from: src.baseAddress! + sample * sampleStride + inOffset, byteCount: copy)
                }
                if copy < rowBytes { memset(dst + copy, 0, rowBytes - copy) }
            }
            if checksum { crc.update(UnsafeRawBufferPointer(start: start + offset, count: rows.count * rowBytes)) }
            memset(start + offset + rows.count * rowBytes, 0, (batch - rows.count) * rowBytes)
            offset = PayloadLayout.aligned(offset + batch * rowBytes)
        }
        return checksum ? crc.value : nil
    }

    /// Writes a batch of the requests' own inputs (`inputs[row][input]`, each exactly one
    /// sample of that input at the loaded shape) padded with zero rows to `batch` into `slot`:
    /// what `inferbench serve` does with the bodies it received.
    func gather(slot: Int, inputs rows: [[[UInt8]]], batch: Int) throws(InferbenchError) {
        guard !closed else { throw .worker("payload ring: closed (its worker stopped)") }
        let start = base + layout.slotsOffset + slot * layout.slotStride
        var offset = 0
        for i in layout.inputs.indices {
            let rowBytes = layout.sampleBytes(i, length: nil)
            guard offset + batch * rowBytes <= layout.inputCapacity else { throw .worker("payload ring: a batch of \(batch) exceeds the slot") }
            for (r, row) in rows.enumerated() {
                guard i < row.count, row[i].count == rowBytes else {
                    throw .badInput("input \(i) of a request has \(i < row.count ? row[i].count : 0) bytes; one sample takes \(rowBytes)")
                }
                row[i].withUnsafeBytes { (start + offset + r * rowBytes).copyMemory(from: $0.baseAddress!, byteCount: rowBytes) }
            }
            memset(start + offset + rows.count * rowBytes, 0, (batch - rows.count) * rowBytes)
            offset = PayloadLayout.aligned(offset + batch * rowBytes)
        }
    }

    /// Each of the first `rows` rows' outputs (`[row][output]`) of a batch of `batch` in `slot`,
    /// laid out as the worker writes them: output after output, each at a multiple of 64.
    func rowOutputs(slot: Int, rows: Int, batch: Int) -> [[[UInt8]]] {
        guard !closed, let outputs = layout.outputs else { return Array(repeating: [], count: rows) }
        let area = base + layout.slotsOffset + slot * layout.slotStride + layout.outputOffset
        var result = Array(repeating: [[UInt8]](), count: rows)
        var offset = 0
        for output in outputs {
            let sampleBytes = output.shape.reduce(output.itemsize, *)
            for r in 0..<rows {
                result[r].append([UInt8](UnsafeRawBufferPointer(start: area + offset + r * sampleBytes, count: sampleBytes)))
            }
            offset = PayloadLayout.aligned(offset + batch * sampleBytes)
        }
        return result
    }

    /// The pool a batch at `length` copies from: the one at that length, else (token inputs,
    /// whose shorter rows are prefixes) the longest.
    private func poolFor(_ length: Int?) throws(InferbenchError) -> (PayloadLayout.Pool, Int) {
        if let i = layout.pools.firstIndex(where: { $0.length == length }) { return (layout.pools[i], i) }
        // Inputs with no length axis (the synthetic model's bytes): the same at every length.
        if layout.lengthDims.allSatisfy(\.isEmpty), let first = layout.pools.first { return (first, 0) }
        let tokens = layout.inputs.indices.allSatisfy { layout.isTokenRow($0) }
        if tokens, let i = layout.pools.indices.max(by: { (layout.pools[$0].length ?? .max) < (layout.pools[$1].length ?? .max) }) {
            return (layout.pools[i], i)
        }
        throw .worker("payload ring: no samples at length \(length.map(String.init) ?? "as loaded")")
    }

    /// Copies `bytes` of outputs out of `slot`, as a server reads its response.
    func readOutputs(slot: Int, bytes: Int) {
        guard !closed else { return }
        let n = min(max(0, bytes), layout.outputCapacity)
        let src = base + layout.slotsOffset + slot * layout.slotStride + layout.outputOffset
        scratch.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: src, byteCount: n) }
    }
}

/// CRC-32 (zlib's polynomial), to check that a batch's bytes arrived as written.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    private var crc: UInt32 = 0xFFFF_FFFF

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var c = crc
        for b in bytes { c = Self.table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        crc = c
    }

    var value: UInt32 { crc ^ 0xFFFF_FFFF }
}
