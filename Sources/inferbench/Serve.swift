import ArgumentParser
import Foundation
import InferbenchCore

/// `inferbench serve`: the model behind inferbench's dynamic batcher and workers, over the Open
/// Inference Protocol's REST endpoints, for any client (`load --target`, tritonclient, curl).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over the Open Inference Protocol (KServe v2 REST) with inferbench's dynamic batcher and workers.")

    @OptionGroup var variant: VariantOptions
    @OptionGroup var pythonOptions: PythonOptions
    @OptionGroup var batching: BatchingOptions

    @Option(name: .long, help: "Address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 for every interface).")
    var host: String = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on; 0 picks a free one (default: 8000).")
    var port: Int = 8000
    @Option(name: .long, help: "The model's name in the protocol's paths, /v2/models/NAME (default: the zoo name, e.g. resnet50).")
    var modelName: String?
    @Option(name: .long, help: "Largest request body, in megabytes; larger ones are answered 413 (default: 64).")
    var maxBodyMb: Double = 64
    @Option(name: .long, help: "Seconds a request may wait for its answer before it is answered 504 (default: 30).")
    var requestTimeout: Double = 30
    @Option(name: .long, help: "Folder for the workers' logs (default: a new folder under the system's temporary folder).")
    var logs: String?
    @Flag(name: .long, help: "No GPU telemetry for /metrics.")
    var noTelemetry = false

    func validate() throws {
        let models = try variant.models()
        if models.count != 1 { throw ValidationError("serve takes one model: give one --model, e.g. --model resnet50") }
        if (variant.compile?.count ?? 1) != 1 || (variant.precision?.count ?? 1) != 1 {
            throw ValidationError("serve takes one --compile mode and one --precision")
        }
        if !(0...65535).contains(port) { throw ValidationError("--port \(port): give 0 to 65535") }
        if !(maxBodyMb > 0 && maxBodyMb <= 4096) { throw ValidationError("--max-body-mb \(maxBodyMb): give megabytes above 0, at most 4096") }
        if !(requestTimeout > 0 && requestTimeout <= 3600) { throw ValidationError("--request-timeout \(requestTimeout): give seconds above 0, at most 3600") }
        if let modelName, modelName.isEmpty || modelName.contains("/") { throw ValidationError("--model-name \(modelName): give a name without '/'") }
        do { _ = try batching.inFlightDepth(gpu: true, reduceOverhead: variant.compile?.first == .reduceOverhead) } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        do { try await execute() } catch { throw failure(error) }
    }

    func execute() async throws(InferbenchError) {
        let spec = try variant.models()[0]
        let logFolder = logs.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("inferbench-serve-\(getpid())")
        do { try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true) } catch {
            throw .badInput("--logs \(logFolder.path): \(error.localizedDescription); give a folder you can write")
        }
        let (launcher, _) = try pythonOptions.launcher(logDirectory: logFolder)
        let (probe, hello) = try await launcher.start(label: "probe")
        let resolved: String
        do {
            resolved = try await BenchmarkRunner.preflight(
                models: [spec], device: variant.device ?? .auto, worker: probe, hello: hello, python: launcher.python)
        } catch {
            await probe.shutdown()
            throw error
        }
        await probe.shutdown()
        let gpu = resolved.hasPrefix("cuda")
        let compile = variant.compile?.first ?? .eager
        let served = Variant(compile: compile, precision: variant.precision?.first ?? .fp32, batchSize: batching.maxBatch, channelsLast: variant.channelsLast)
        var test = LoadTest(
            model: spec, variant: served, seed: variant.seed ?? 0, replicaSets: try batching.replicaSets(launcher: launcher, hello: hello, device: resolved),
            scenario: .offlineOnly, offline: false, maxBatch: batching.maxBatch, buckets: try batching.buckets(), maxDelay: batching.maxDelay / 1000,
            maxQueue: batching.maxQueue, window: 10, telemetry: nil, progress: { Console.note($0) })
        test.inFlight = try batching.inFlightDepth(gpu: gpu, reduceOverhead: compile == .reduceOverhead)
        test.payload = .host
        var session = ServeSession(test: test, name: modelName ?? spec.name, announce: { Console.note($0) })
        (session.host, session.port) = (host, port)
        session.maxBodyBytes = Int(maxBodyMb * 1_048_576)
        session.requestTimeout = requestTimeout
        session.sampler = noTelemetry || !gpu ? nil : TelemetrySampler(interval: .milliseconds(500))
        Console.note("serving \(spec.description) \(served.family) on \(resolved); workers' logs in \(logFolder.path)")
        try await session.run()
    }
}
