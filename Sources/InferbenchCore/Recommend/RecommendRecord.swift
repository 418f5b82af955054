import Foundation

/// One SLA search of one configuration: the `inferbench load --find-max-qps` that a round ran,
/// where its results are, and what they say.
public struct CapacityMeasurement: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// The search finished (whatever it found).
        case complete
        /// It was stopped (Ctrl-C, SIGTERM): its steps so far are kept.
        case incomplete
        /// The command failed before it measured anything.
        case failed
    }

    public var round: Int
    /// The folder of its `results.json`, relative to the search folder.
    public var folder: String
    public var command: [String]
    public var processes: String
    public var stepS: Double
    public var wallS: Double
    public var exitCode: Int32
    public var status: Status
    public var lowerQPS: Double?
    public var upperQPS: Double?
    /// Latency at the highest passing rate: its P50 and P99 (over every run of that rate).
    public var p50MS: Double?
    public var p99MS: Double?
    /// GPU energy per request and mean power at the highest passing rate, where measured.
    public var joulesPerRequest: Double?
    public var powerW: Double?
    public var errors: Int
    public var message: String?
    /// Where no rate passed because the search stopped at one that failed unloaded
    /// (``SLASearch/failedUnloaded(_:)``): that rate and its P99, the serving path's own.
    public var unloadedQPS: Double?
    public var unloadedP99MS: Double?
    /// The lowest P99 of any passing step and its rate: how close to the SLA the serving path's
    /// latency stays even at the lightest load that passed.
    public var lowestP99MS: Double?
    public var lowestP99QPS: Double?

    /// The same workers' offline throughput (samples/s) in that search, and each fresh start's
    /// bracket where it started them more than once: what a check that disagrees is compared on.
    public var offlinePerS: Double?
    public var starts: [Bracket]?

    public struct Bracket: Codable, Sendable, Equatable {
        public var lowerQPS: Double?
        public var upperQPS: Double?
    }

    /// Whether this capacity hangs on a thin margin (``Recommendation/fragile(lowestP99MS:at:lowerQPS:sla:)``).
    public func fragile(slaP99MS: Double) -> Bool {
        Recommendation.fragile(lowestP99MS: lowestP99MS, at: lowestP99QPS, lowerQPS: lowerQPS, sla: slaP99MS)
    }

    /// The figures of a finished `load --find-max-qps`.
    mutating func read(_ results: RunResults) {
        lowerQPS = results.load?.capacity?.lowerQPS
        upperQPS = results.load?.capacity?.upperQPS
        errors = results.loadTests.reduce(0) { $0 + $1.errors }
        offlinePerS = results.load?.offline?.perS
        starts = results.load?.capacity?.replicates.map { $0.map { Bracket(lowerQPS: $0.lowerQPS, upperQPS: $0.upperQPS) } }
        guard let lower = lowerQPS else {
            let idle = SLASearch.unloadedFailure(results.loadTests, upper: upperQPS)
            (unloadedQPS, unloadedP99MS) = (idle?.targetQPS, idle?.latencyMS?.p99)
            return
        }
        let lowest = results.loadTests.filter { $0.slaMet == true }.compactMap { s in s.latencyMS.map { (qps: s.targetQPS, p99: $0.p99) } }.min {
            $0.p99 < $1.p99
        }
        (lowestP99MS, lowestP99QPS) = (lowest?.p99, lowest?.qps)
        let passing = results.loadTests.filter { $0.targetQPS == lower && $0.slaMet == true }
        p50MS = passing.compactMap(\.latencyMS?.p50).max()
        p99MS = passing.compactMap(\.latencyMS?.p99).max()
        let energy = passing.compactMap(\.telemetry?.energyJPerSample)
        joulesPerRequest = energy.isEmpty ? nil : energy.reduce(0, +) / Double(energy.count)
        let power = passing.compactMap(\.telemetry?.powerWMean)
        powerW = power.isEmpty ? nil : power.reduce(0, +) / Double(power.count)
    }
}

/// Everything known of one configuration: why it is out, or its measurements by round.
public struct ConfigRecord: Codable, Sendable, Equatable {
    public var config: ServingConfig
    /// The screen's ceiling, the order of the first round.
    public var estimateQPS: Double?
    public var exclusion: Exclusion?
    public var measurements: [CapacityMeasurement]

    public init(config: ServingConfig, estimateQPS: Double? = nil, exclusion: Exclusion? = nil) {
        self.config = config
        self.estimateQPS = estimateQPS
        self.exclusion = exclusion
        measurements = []
    }

    /// The last round's finished measurement: what the configuration is ranked by.
    public var latest: CapacityMeasurement? { measurements.last { $0.status != .failed } }
    public var roundReached: Int { latest?.round ?? 0 }
}

/// The screen: the one `inferbench run` that measured every variant.
public struct ScreenRecord: Codable, Sendable, Equatable {
    public var folder: String
    public var command: [String]
    public var wallS: Double
    public var exitCode: Int32
    public var variants: [VariantScreen]
    /// The device the run resolved (`cuda:0`, `cpu`) and the GPU's name.
    public var device: String?
    public var gpu: String?
}

/// A new replica of the recommended configuration started after the search: what an
/// autoscaler's next replica waits, from one of three starting points.
public struct ReplicaStart: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable {
        /// The compile cache as the search left it (what it compiled is there).
        case searchCache = "search-cache"
        /// Inductor's and Triton's caches in a new, empty folder: a fresh machine.
        case emptyCache = "empty-cache"
        /// The answer's graph as an AOTInductor package, built by one process and loaded by a new
        /// one: no compile at start.
        case aotiPackage = "aoti-package"
    }

    public var config: ServingConfig
    /// nil in records written before the other sources: the search's cache.
    public var source: Source?
    public var folder: String
    public var coldStartS: Double?
    public var compileCache: CompileCacheState?
    public var wallS: Double
    /// Why it gave no cold start (the package did not build or load, the worker crashed).
    public var problem: String?
}

/// A `--check`: the recommended configuration measured again by a plain `load --find-max-qps`.
public struct CheckRecord: Codable, Sendable, Equatable {
    public enum Verdict: String, Sendable {
        case agrees, disagrees
        /// Stopped before its starts finished: its bracket so far is no verdict.
        case incomplete
        case failed
    }

    public var measurement: CapacityMeasurement
    /// Whether the finished check's bracket meets the recommended one (false for a check that
    /// did not finish: see ``verdict``).
    public var agrees: Bool

    public var verdict: Verdict {
        switch measurement.status {
        case .complete: return agrees ? .agrees : .disagrees
        case .incomplete: return .incomplete
        case .failed: return .failed
        }
    }
}

/// The search folder's `recommend.json`: the question, the plan and every measurement, saved
/// after each step, so an interrupted search continues (`--resume`) where it stopped.
public struct RecommendRecord: Codable, Sendable {
    public static let schemaID = "inferbench.recommend/1"
    public static let fileName = "recommend.json"

    public var schema = RecommendRecord.schemaID
    public var id: String
    public var command: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: RunInfo.Status
    public var inferbenchVersion: String
    public var question: RecommendQuestion
    public var screen: ScreenRecord?
    public var configs: [ConfigRecord]
    /// Seconds the search has spent, over all its sessions (a resumed search adds to it).
    public var spentS: Double
    public var answer: Recommendation?
    /// New replicas of the answer: with the search's compile cache, and for a compiled answer
    /// with an empty cache and from an AOTInductor package.
    public var replica: ReplicaStart?
    public var emptyCacheReplica: ReplicaStart?
    public var packageReplica: ReplicaStart?
    public var checks: [CheckRecord]

    public init(id: String, command: String, question: RecommendQuestion) {
        self.id = id
        self.command = command
        startedAt = Date()
        status = .incomplete
        inferbenchVersion = InferbenchInfo.version
        self.question = question
        configs = []
        spentS = 0
        checks = []
    }

    public static func load(folder: URL) throws(InferbenchError) -> RecommendRecord {
        let url = folder.appending(path: fileName)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .badInput("\(folder.path): no \(fileName) (give the folder of an earlier `inferbench recommend`)")
        }
        do {
            let record = try decoder().decode(RecommendRecord.self, from: data)
            guard record.schema == schemaID else { throw InferbenchError.badInput("schema \(record.schema)") }
            return record
        } catch {
            throw .badInput("\(url.path) is not a recommend record this inferbench reads (\(error)); start a new search")
        }
    }

    public func save(folder: URL) throws(InferbenchError) {
        let data: Data
        do { data = try Self.encoder().encode(self) } catch { throw .internal("cannot encode \(Self.fileName): \(error)") }
        do { try AtomicFile.write(data, to: folder.appending(path: Self.fileName)) } catch {
            throw .writeFailed("\(error.description). \(error.remedy), or pass --out elsewhere")
        }
    }

    func index(of config: ServingConfig) -> Int? { configs.firstIndex { $0.config == config } }

    func entry(_ config: ServingConfig) -> ConfigRecord { configs[index(of: config)!] }

    /// The finished measurements' figures read again from their results.json under `folder`, so
    /// that a record written by an older inferbench gains what this one reads (a report re-renders
    /// from them). A measurement whose results are gone keeps its stored figures.
    public mutating func rereadMeasurements(folder: URL) {
        func reread(_ m: inout CapacityMeasurement) {
            guard m.status == .complete, let (results, _) = try? RunResults.load(path: folder.appending(path: m.folder).path) else { return }
            m.read(results)
        }
        for i in configs.indices {
            for j in configs[i].measurements.indices { reread(&configs[i].measurements[j]) }
        }
        for k in checks.indices { reread(&checks[k].measurement) }
    }

    /// results.json's dates and non-finite numbers; keys are the Swift names (camelCase):
    /// Foundation's snake_case conversion does not round-trip names such as `slaP99MS`.
    static func encoder() -> JSONEncoder { RunResults.encoder() }
    static func decoder() -> JSONDecoder { RunResults.decoder() }
}
