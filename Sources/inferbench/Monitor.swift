import ArgumentParser
import Foundation
import InferbenchCore

struct Monitor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch the GPUs live, like `nvidia-smi dmon -s u,m,p,c -o T`; optionally write every sample to CSV.",
        discussion: """
            One line per GPU per sample: time, GPU index, SM %, memory %, memory used (MiB), power (W),
            temperature (°C), SM and memory clocks (MHz), throttle reasons. Without an NVIDIA driver it says
            why once and shows the host's CPU and memory instead. Ctrl-C ends it (exit 0).
            """)

    @Option(name: .long, help: "Milliseconds between samples (at least 10).")
    var interval: Int = 1000
    @Option(name: .long, help: "Stop after this many samples (default: run until Ctrl-C).")
    var count: Int?
    @Option(name: .long, help: "Also write every sample to this CSV file (one row per GPU per sample).")
    var csv: String?
    @Option(name: .long, help: "GPUs to watch, by NVML index (nvidia-smi's numbering), e.g. 0,1 (default: all).")
    var gpus: String?
    @Option(name: .long, help: "Also show the CPU and resident memory of these processes, e.g. --pid 4242,4243 (shown when there is no GPU, and summed).")
    var pid: String?
    @Flag(name: .long, help: "Also read PCIe throughput into the CSV (NVML spends 20 ms per GPU and direction measuring it).")
    var pcie = false

    func validate() throws {
        if interval < 10 { throw ValidationError("--interval \(interval): give at least 10 (milliseconds)") }
        if let count, count < 1 { throw ValidationError("--count \(count): give at least 1, or leave it out to run until Ctrl-C") }
        if let gpus, Self.indices(gpus) == nil { throw ValidationError("--gpus \(gpus): give GPU indices separated by commas, e.g. --gpus 0,1") }
        if let pid, Self.indices(pid) == nil { throw ValidationError("--pid \(pid): give process ids separated by commas, e.g. --pid 4242") }
    }

    static func indices(_ text: String) -> [Int]? {
        let items = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !items.isEmpty, items.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        return items.compactMap { $0 }
    }

    func run() async throws {
        do { try await execute() } catch { throw failure(error) }
    }

    func execute() async throws(InferbenchError) {
        let file = try csv.map { path throws(InferbenchError) in try Self.openCSV(path) }
        defer { try? file?.close() }
        let (ticks, continuation) = AsyncStream.makeStream(of: TelemetryTick.self)
        let nvml = NVML.open()
        let wanted = gpus.flatMap(Self.indices)
        if case .success(let nvml) = nvml, let wanted {
            let seen = nvml.devices().map(\.index)
            if let missing = wanted.first(where: { !seen.contains($0) }) {
                let list = seen.isEmpty ? "none" : seen.map(String.init).joined(separator: ",")
                throw .badInput("--gpus \(gpus!): there is no GPU \(missing); NVML sees \(list) (`nvidia-smi -L` lists them)")
            }
        }
        let sampler = TelemetrySampler(
            interval: .milliseconds(interval), gpus: wanted, pcie: pcie, historyLimit: 4,
            reader: nvml.map { $0 as any GPUReader }, onSample: { continuation.yield($0) })
        var reported = sampler.unavailableReason
        if let reason = reported {
            Console.note("no GPU telemetry: \(reason)" + (sampler.devices.isEmpty ? "\nshowing the host's CPU and memory instead" : ""))
        }
        let hostOnly = sampler.devices.isEmpty
        Console.out(hostOnly ? MonitorReport.hostHeader : MonitorReport.gpuHeader)
        file?.write(Data(MonitorReport.csvHeader.utf8))
        let interrupt = Interrupt.install(quietly: true) { _ in continuation.finish() }
        defer { interrupt.cancel() }
        sampler.setWatchedPIDs((pid.flatMap(Self.indices) ?? []).map { Int32(truncatingIfNeeded: $0) })
        sampler.start()
        var seen = 0
        for await tick in ticks {
            if tick.unavailableReason != reported, let reason = tick.unavailableReason {
                Console.note("GPU telemetry incomplete: \(reason)")
                reported = reason
            }
            let offset = sampler.wallClockOffset
            if hostOnly {
                Console.out(MonitorReport.hostLine(tick.host, wallClock: Date(timeIntervalSince1970: tick.host.t + offset)))
            } else {
                Console.out(tick.gpu.map { MonitorReport.gpuLine($0, wallClock: Date(timeIntervalSince1970: $0.t + offset)) }.joined())
            }
            file?.write(Data(MonitorReport.csvRows(gpu: tick.gpu, host: tick.host, wallClockOffset: offset).utf8))
            seen += 1
            if let count, seen >= count { break }
        }
        sampler.stop()
        continuation.finish()
        Console.note(String(MonitorReport.costLine(sampler.cost, interval: sampler.interval).dropLast()))
    }

    static func openCSV(_ path: String) throws(InferbenchError) -> FileHandle {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = try? FileHandle(forWritingTo: url) else {
            throw .badInput("--csv \(path): cannot write that file; check that its folder exists and is writable")
        }
        return handle
    }
}
