import Foundation
import Testing

/// `load --payload`: request bytes through the worker's shared-memory ring (`host`, the
/// default) or inputs made on the device (`device`), with real workers.
@Suite(.serialized) struct PayloadEndToEndTests {
    func load(_ out: URL) throws -> [String: Any] { try #require(try CLI.results(in: out)["load"] as? [String: Any]) }
    func breakdown(_ out: URL) throws -> [String: Any] {
        let steps = try #require(try CLI.results(in: out)["load_tests"] as? [[String: Any]])
        return try #require(steps.first?["breakdown_ms"] as? [String: Any])
    }

    /// 64 KiB a request: the bytes go through the ring (checked by CRC-32 at warm-up, or the
    /// workers would not start), and the copies are timed beside compute; with `device` nothing
    /// is copied and the breakdown says nothing of copies.
    @Test func hostPayloadsAreCopiedAndTimedDevicePayloadsAreNot() throws {
        var copies: [String: Double] = [:]
        for mode in ["host", "device"] {
            let out = CLI.temporaryDirectory()
            let r = try CLI.run(
                [
                    "load", "--model", "synthetic:median_ms=1,payload_bytes=65536", "--payload", mode, "--concurrency", "8", "--duration", "2s",
                    "--max-batch", "4", "--quiet", "--no-telemetry", "--out", out.path,
                ], timeout: 180)
            #expect(r.status == 0, "\(mode): \(r.stderr)")
            #expect(try load(out)["payload"] as? String == mode)
            let steps = try #require(try CLI.results(in: out)["load_tests"] as? [[String: Any]])
            #expect(steps.first?["errors"] as? Int == 0 && (steps.first?["completed"] as? Int ?? 0) > 100)
            let b = try breakdown(out)
            if mode == "host" {
                copies["h2d"] = try #require(b["h2d"] as? Double)
                copies["d2h"] = try #require(b["d2h"] as? Double)
                let report = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
                #expect(report.contains("queue / ipc / h2d / compute / d2h ms") && report.contains("shared-memory ring"))
            } else {
                #expect(b["h2d"] == nil && b["d2h"] == nil)
            }
        }
        // Copying up to 4 × 64 KiB takes time, but nowhere near the 1 ms call.
        #expect((copies["h2d"] ?? 0) > 0 && (copies["h2d"] ?? 1) < 1, "\(copies)")
        // No ring file is left behind by workers that were shut down.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
        #expect(!left.contains { $0.hasPrefix("inferbench-payload-") }, "\(left)")
    }

    @Test func anUnknownPayloadIsRefusedBeforeAnyWorkerStarts() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run(["load", "--model", "synthetic", "--qps", "10", "--payload", "disk", "--out", out.path])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--payload") && r.stderr.contains("host") && !r.stderr.contains("starting"), "\(r.stderr)")
    }

    /// MPS shares a GPU between workers: on a CPU it means nothing, and is refused before the
    /// test's workers start (the probe that resolves the device has run).
    @Test func mpsOffAGPUIsRefused() throws {
        let out = CLI.temporaryDirectory()
        let r = try CLI.run(["load", "--model", "synthetic", "--qps", "10", "--duration", "1s", "--mps", "--out", out.path])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--mps shares a GPU between workers: this test runs on cpu; drop --mps"), "\(r.stderr)")
        #expect(!r.stderr.contains("starting cpu-0"), "\(r.stderr)")
    }

    /// A .npy file of float32 samples, [count, *shape], every value `value`, written by hand
    /// (the format: magic, version 1.0, a header dict padded to 64 bytes, then the data).
    static func npy(_ url: URL, shape: [Int], value: Float) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        let count = shape.reduce(1, *)
        data.append(contentsOf: (0..<count).flatMap { _ in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } })
        try data.write(to: url)
    }

    /// The requests carry a file's samples; a file whose samples do not fit the model is refused
    /// with exit 64 naming the shape the model takes, before anything is measured.
    @Test func aPayloadFileIsServedAndOneThatDoesNotFitIsRefused() throws {
        let dir = CLI.temporaryDirectory()
        let good = dir.appending(path: "images.npy")
        try Self.npy(good, shape: [3, 3, 32, 32], value: 0.5)
        let out = dir.appending(path: "good")
        let r = try CLI.run(
            [
                "load", "--model", "resnet18:size=32", "--payload-file", good.path, "--concurrency", "2", "--duration", "2s", "--max-batch", "2",
                "--quiet", "--no-telemetry", "--out", out.path,
            ], timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try load(out)["payload_file"] as? String == good.path)
        let steps = try #require(try CLI.results(in: out)["load_tests"] as? [[String: Any]])
        #expect(steps.first?["errors"] as? Int == 0 && (steps.first?["completed"] as? Int ?? 0) > 0)

        let bad = dir.appending(path: "small.npy")
        try Self.npy(bad, shape: [3, 3, 16, 16], value: 0.5)
        let refused = try CLI.run(
            ["load", "--model", "resnet18:size=32", "--payload-file", bad.path, "--qps", "10", "--duration", "1s", "--out", dir.appending(path: "bad").path],
            timeout: 300)
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("the model takes float32[N, 3, 32, 32]"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("poisson"), "\(refused.stderr)")

        let device = try CLI.run(["load", "--model", "resnet18", "--payload-file", good.path, "--payload", "device", "--qps", "10"])
        #expect(device.status == 64 && device.stderr.contains("drop --payload device"), "\(device.stderr)")
    }
}
