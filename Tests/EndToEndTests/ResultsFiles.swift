import Foundation

@testable import InferbenchCore

/// results.json files written from code, for the commands that only read results.
enum ResultsFiles {
    /// mlp eager and default at batch 1 (±1% intervals); `slower` scales every latency, and
    /// `defaultSlower` the default cell's on top, so it is the worst offender.
    static func write(into directory: URL, slower: Double = 1, defaultSlower: Double = 1) throws -> URL {
        let host = HostInfo(hostname: "ci", os: "Linux", cpu: "test CPU", cores: 2, memoryMB: 4096)
        let info = RunInfo(
            id: "run-\(slower)", startedAt: Date(timeIntervalSince1970: 1_764_000_000), finishedAt: nil, status: .complete,
            command: "inferbench run --model mlp", plan: nil, host: host, inferbenchVersion: "0.1.0")
        var cells: [CellResult] = []
        for (compile, base) in [(CompileMode.eager, 10.0), (.default, 5.0)] {
            let p50 = base * slower * (compile == .default ? defaultSlower : 1)
            var cell = CellResult(
                spec: CellSpec(model: ModelSpec(name: "mlp"), environment: "default", variant: Variant(compile: compile, precision: .fp32, batchSize: 1)),
                status: .ok)
            cell.latencyMS = LatencySummary(
                n: 1000, mean: p50, stddev: p50 / 50, min: p50 * 0.9, p50: p50, p90: p50 * 1.1, p95: p50 * 1.2, p99: p50 * 1.3, p999: p50 * 1.5, max: p50 * 2,
                ci95: .init(p50: [p50 * 0.99, p50 * 1.01], mean: [p50 * 0.99, p50 * 1.01]))
            cell.throughputPerS = 1000 / p50
            cell.throughputCI95 = [1000 / p50 * 0.99, 1000 / p50 * 1.01]
            cell.samplesNS = (0..<200).map { Int64(p50 * 1e6 * (1 + Double($0 % 20) / 200)) }
            cells.append(cell)
        }
        let env = EnvironmentRecord(name: "default", python: "/usr/bin/python3", pythonVersion: "3.12", torch: "2.6.0", gpus: [])
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appending(path: "results.json")
        try RunResults(run: info, environments: [env], cells: cells, comparisons: Derived.comparisons(cells)).write(to: url)
        return url
    }

    /// A `load --find-max-qps` of mlp default at max batch 8 with the given capacity bracket.
    static func writeLoad(into directory: URL, lowerQPS: Double, upperQPS: Double) throws -> URL {
        let url = try write(into: directory)
        var results = try RunResults.load(path: directory.path).0
        results.run.command = "inferbench load --model mlp --find-max-qps --sla-p99 15"
        results.cells = []
        results.comparisons = []
        var info = LoadInfo(
            model: "mlp", variant: Variant(compile: .default, precision: .fp32, batchSize: 8), workers: 1, maxBatch: 8, maxDelayMS: 2,
            maxQueue: 10_000, windowS: 1, slaP99MS: 15, batchBuckets: [1, 8])
        info.capacity = Capacity(lowerQPS: lowerQPS, upperQPS: upperQPS)
        results.load = info
        try results.write(to: url)
        return url
    }
}
