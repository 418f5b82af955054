import ArgumentParser
import Foundation
import InferbenchCore

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load and stress tests: open and closed loops through a dynamic batcher, max QPS under a P99 SLA, soak.")

    @Option(name: .long, help: "Model (one), e.g. resnet50 or synthetic:median_ms=5.")
    var model: String
    @Option(name: .long, help: "Compile mode (one).")
    var compile: String = "eager"
    @Option(name: .long, help: "Precision (one).")
    var precision: String = "fp32"
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N.")
    var device: String = "auto"
    @Flag(name: .long, help: "Convert model and inputs to channels_last.")
    var channelsLast = false
    @OptionGroup var pythonOptions: PythonOptions

    @Option(name: .long, help: "Open loop at this many requests per second.")
    var qps: Double?
    @Option(name: .long, help: "poisson or constant arrivals for --qps.")
    var arrival: String = "poisson"
    @Option(name: .long, help: "Closed loop with N requests in flight; a list sweeps, e.g. 1,2,4,8.")
    var concurrency: String?
    @Option(name: .long, help: "Ramp FROM:TO:DURATION in requests per second, e.g. 0:500:30s.")
    var ramp: String?
    @Flag(name: .long, help: "Search for the highest Poisson rate whose P99 stays under --sla-p99.")
    var findMaxQps = false
    @Option(name: .long, help: "P99 latency bound in milliseconds for --find-max-qps.")
    var slaP99: Double?
    @Flag(name: .long, help: "Also measure offline throughput (all samples available, max batch, back to back).")
    var offline = false

    @Option(name: .long, help: "Duration of each step: 30s, 10m, 2h or seconds (default 30s; for --find-max-qps, at least 10 s and 1000 requests a step).")
    var duration: String?
    @Option(name: .long, help: "Window for per-window figures in long runs.")
    var window: String = "10s"
    @Option(name: .long, help: "Largest batch the batcher forms.")
    var maxBatch: Int = 8
    @Option(name: .long, help: "Longest wait for a batch to fill, in milliseconds.")
    var maxDelay: Double = 2
    @Option(name: .long, help: "Requests waiting beyond this are rejected.")
    var maxQueue: Int = 10_000
    @Option(name: .long, help: "Workers (model replicas) per GPU, or on the CPU.")
    var workers: Int = 1
    @Option(name: .long, help: "GPUs to use, one worker set per GPU, e.g. 0,1 (sets CUDA_VISIBLE_DEVICES per worker).")
    var gpus: String?
    @Option(name: .long, help: "Seed for arrivals, weights and inputs.")
    var seed: Int = 0
    @Option(name: .long, help: "Output folder.")
    var out: String?
    @Flag(name: .long, help: "Do not sample GPU and host telemetry.")
    var noTelemetry = false
    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false
    @OptionGroup var recording: RecordingOptions  // results store (StoreOptions.swift)

    func validate() throws {
        let scenarios = [qps != nil, concurrency != nil, ramp != nil, findMaxQps].filter { $0 }.count
        if scenarios == 0 && !offline {
            throw ValidationError("choose a scenario: --qps R, --concurrency N[,N...], --ramp FROM:TO:DURATION, --find-max-qps --sla-p99 MS, or --offline")
        }
        if scenarios > 1 { throw ValidationError("give one of --qps, --concurrency, --ramp, --find-max-qps") }
        if findMaxQps && slaP99 == nil { throw ValidationError("--find-max-qps needs --sla-p99 MS") }
        if let slaP99, slaP99 <= 0 { throw ValidationError("--sla-p99 must be > 0 ms") }
        if let qps, qps <= 0 { throw ValidationError("--qps must be > 0") }
        if maxBatch < 1 || maxBatch > 4096 { throw ValidationError("--max-batch must be between 1 and 4096") }
        if maxDelay < 0 { throw ValidationError("--max-delay must be ≥ 0 ms") }
        if workers < 1 || workers > 64 { throw ValidationError("--workers must be between 1 and 64") }
        if !["poisson", "constant"].contains(arrival) { throw ValidationError("--arrival must be poisson or constant") }
    }

    func run() async throws {
        let status: ExitStatus
        do { status = try await execute() } catch { throw failure(error) }
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
