import Foundation
import Testing

@testable import InferbenchCore

/// The ring's side of `--payload host`: what it writes into a slot is what the worker's
/// layout says it reads (the worker's side is python/tests/test_payload.py).
@Suite struct PayloadRingTests {
    /// A file laid out as a worker would for two token inputs (bert's ids and mask, int64) of
    /// 8 tokens as loaded, a pool of 3 samples, 2 slots of up to 4 rows.
    static func tokenRing() throws -> (PayloadLayout, URL) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("inferbench-ring-test-\(UUID().uuidString)")
        let sample = [8 * 8, 8 * 8]
        let inputCapacity = 2 * PayloadLayout.aligned(4 * 64)
        let outputCapacity = 4 * 16 + 64
        let slotStride = PayloadLayout.aligned(inputCapacity) + PayloadLayout.aligned(outputCapacity)
        let slotsOffset = PayloadLayout.aligned(3 * 128)
        let layout = PayloadLayout(
            path: url.path, size: slotsOffset + 2 * slotStride, pinned: false,
            inputs: [
                .init(name: "input_ids", dtype: "int64", itemsize: 8, shape: [8]), .init(name: "attention_mask", dtype: "int64", itemsize: 8, shape: [8]),
            ],
            lengthDims: [[0], [0]], pools: [.init(length: nil, offset: 0, count: 3, sampleBytes: sample)],
            slotsOffset: slotsOffset, slotStride: slotStride, inputCapacity: inputCapacity, outputOffset: PayloadLayout.aligned(inputCapacity),
            outputCapacity: outputCapacity)
        // Sample j: ids 100j+1 … 100j+8, mask all ones; the slots start out as 0xFF garbage.
        var bytes = [UInt8](repeating: 0xFF, count: layout.size)
        for j in 0..<3 {
            for k in 0..<8 {
                write(Int64(100 * j + k + 1), into: &bytes, at: j * 128 + k * 8)
                write(1, into: &bytes, at: j * 128 + 64 + k * 8)
            }
        }
        try Data(bytes).write(to: url)
        return (layout, url)
    }

    static func write(_ v: Int64, into bytes: inout [UInt8], at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }

    static func int64s(_ url: URL, at offset: Int, count: Int) throws -> [Int64] {
        let data = try Data(contentsOf: url)
        return (0..<count).map { i in data.subdata(in: (offset + 8 * i)..<(offset + 8 * i + 8)).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) } }
    }

    @Test func tokenRowsArePrefixesPaddedWithZerosAndPaddingRowsAreZero() throws {
        let (layout, url) = try Self.tokenRing()
        let ring = try PayloadRing(layout, slots: 2)
        defer { ring.close() }
        let slot = try #require(ring.acquire())
        // Two requests of 3 and 6 tokens in a batch of 4 rows padded to 6 tokens.
        _ = try ring.gather(slot: slot, rows: [3, 6], batch: 4, length: 6)
        let base = layout.slotsOffset + slot * layout.slotStride
        let ids = try Self.int64s(url, at: base, count: 24)
        #expect(ids == [1, 2, 3, 0, 0, 0] + [101, 102, 103, 104, 105, 106] + Array(repeating: 0, count: 12))
        let maskBlock = base + PayloadLayout.aligned(4 * 6 * 8)
        let mask = try Self.int64s(url, at: maskBlock, count: 24)
        #expect(mask == [1, 1, 1, 0, 0, 0] + Array(repeating: 1, count: 6) + Array(repeating: 0, count: 12))
    }

    @Test func theChecksumIsZlibsCRCOfTheRealRowsBlockByBlock() throws {
        var crc = CRC32()
        Array("123456789".utf8).withUnsafeBytes { crc.update($0) }
        #expect(crc.value == 0xCBF4_3926)  // zlib.crc32(b"123456789")

        let (layout, url) = try Self.tokenRing()
        let ring = try PayloadRing(layout, slots: 2)
        defer { ring.close() }
        let sum = try ring.gather(slot: 0, rows: [nil], batch: 2, length: nil, checksum: true)
        let data = try Data(contentsOf: url)
        var want = CRC32()
        let base = layout.slotsOffset
        data.subdata(in: base..<(base + 64)).withUnsafeBytes { want.update($0) }
        data.subdata(in: (base + 128)..<(base + 192)).withUnsafeBytes { want.update($0) }
        #expect(sum == want.value)
        #expect(try ring.gather(slot: 0, rows: [nil], batch: 2, length: nil) == nil)
    }

    @Test func successiveRowsTakeSuccessiveSamplesAndABatchTooLargeIsRefused() throws {
        let (layout, url) = try Self.tokenRing()
        let ring = try PayloadRing(layout, slots: 2)
        defer { ring.close() }
        _ = try ring.gather(slot: 1, rows: [nil, nil], batch: 2, length: nil)
        _ = try ring.gather(slot: 0, rows: [nil, nil], batch: 2, length: nil)
        let first = try Self.int64s(url, at: layout.slotsOffset, count: 9)
        #expect(first[0] == 201 && first[8] == 1)  // samples 2 and 0 (the pool has 3)
        #expect(throws: InferbenchError.self) { try ring.gather(slot: 0, rows: [nil], batch: 5, length: nil) }
    }

    @Test func aClosedRingRemovesItsFileAndRefusesBatches() throws {
        let (layout, url) = try Self.tokenRing()
        let ring = try PayloadRing(layout, slots: 2)
        ring.close()
        #expect(!FileManager.default.fileExists(atPath: url.path))
        #expect(throws: InferbenchError.self) { try ring.gather(slot: 0, rows: [nil], batch: 1, length: nil) }
        ring.readOutputs(slot: 0, bytes: 64)  // a batch back after its worker died: nothing to read, no crash
        ring.close()
    }
}

/// A worker on the host clock whose call copied its payload: 3 ms in all, 0.5 ms in and 0.25 ms out.
struct CopyingWorker: BatchWorker {
    var label: String { "copying" }
    func infer(batchSize: Int, length: Int?) async throws(WorkerError) -> InferResult {
        var r = InferResult(deviceNS: nil, hostNS: 3_000_000)
        (r.h2dNS, r.d2hNS) = (500_000, 250_000)
        return r
    }
    func restart() async -> Bool { true }
}

@Suite struct PayloadBreakdownTests {
    /// On a CPU the worker's own time holds its copies: compute is what is left, the model alone,
    /// and the copies stand beside it.
    @Test func computeOnTheHostClockLeavesTheCopiesOut() async {
        let batcher = DynamicBatcher(workers: [CopyingWorker()], maxBatch: 1, maxDelay: 0)
        let outcome = await batcher.submit(scheduled: 0)
        #expect(outcome.status == .ok)
        #expect(outcome.computeNS == 2_250_000 && outcome.h2dNS == 500_000 && outcome.d2hNS == 250_000)
        await batcher.shutdown()
    }
}
