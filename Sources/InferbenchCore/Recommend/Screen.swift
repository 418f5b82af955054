import Foundation

/// Why a variant or a configuration is out of the running, or lost.
public enum ExclusionReason: String, Codable, Sendable, CaseIterable {
    /// Its outputs are outside the precision's tolerance against eager fp32.
    case accuracy
    /// It needs more memory than `--max-memory-mb` allows.
    case memory
    /// It cannot meet the P99 bound: one request, or one full batch, takes longer; or no
    /// rate the SLA search tried passed.
    case sla
    /// Loading and compiling it takes longer than `--max-cold-start`.
    case coldStart = "cold_start"
    /// A cell or a load test of it failed.
    case failed
    /// The search's `--budget` ran out before it was measured (or measured further).
    case budget
    /// It served fewer requests per second per GPU within the SLA than the survivors.
    case capacity
    /// It served more, but with P99 near the SLA even at the lightest passing load
    /// (``CapacityMeasurement/fragile(slaP99MS:)``), beside a configuration with a margin.
    case fragile
}

/// A configuration's or variant's exclusion, with the figure that decided it, in words.
public struct Exclusion: Codable, Sendable, Equatable {
    public var reason: ExclusionReason
    public var detail: String
    /// The detail in Chinese, for the Chinese report (nil: a program's own message, as it came).
    public var detailZH: String?
    /// The round it was dropped in (0: the screen).
    public var round: Int

    public init(_ reason: ExclusionReason, _ detail: String, zh: String? = nil, round: Int = 0) {
        self.reason = reason
        self.detail = detail
        self.detailZH = zh
        self.round = round
    }

    /// The detail in the report's language.
    func text(_ t: ReportText) -> String { t.pick(detail, detailZH ?? detail) }
}

/// A variant's figures from the screen's `inferbench run`: latency per batch size, the
/// throughput a batch of it gives, its accuracy, memory and cold start.
public struct VariantScreen: Codable, Sendable, Equatable {
    public struct BatchFigure: Codable, Sendable, Equatable {
        public var batch: Int
        /// Median latency of one call of this batch, milliseconds.
        public var latencyMS: Double
        /// Samples per second back to back at this batch.
        public var perS: Double?
    }

    /// The worst error of its cells against eager fp32 and whether it is within tolerance.
    public struct AccuracyFigure: Codable, Sendable, Equatable {
        public var maxRelErr: Double
        public var cosine: Double
        public var withinTolerance: Bool
    }

    public var variant: VariantKey
    public var batches: [BatchFigure]
    public var accuracy: AccuracyFigure?
    /// The largest memory one worker of the variant used, MB (device memory on a GPU, the
    /// worker's resident memory on a CPU).
    public var memoryMB: Double?
    /// Load, compile and first call of a fresh worker at its largest batch, seconds.
    public var coldStartS: Double?
    public var compileCache: CompileCacheState?
    public var exclusion: Exclusion?

    /// Latency of one request alone (batch 1), the floor under any P99.
    public var singleLatencyMS: Double? { batches.first { $0.batch == 1 }?.latencyMS }

    func figure(batch: Int) -> BatchFigure? { batches.first { $0.batch == batch } }

    /// The figures of `variant` in a screen run's cells; nil when the run has none of it.
    static func read(_ results: RunResults, variant: VariantKey) -> VariantScreen? {
        let cells = results.cells.filter { $0.variant.compile == variant.compile && $0.variant.precision == variant.precision }
        guard !cells.isEmpty else { return nil }
        var screen = VariantScreen(variant: variant, batches: [])
        for cell in cells.sorted(by: { $0.variant.batchSize < $1.variant.batchSize }) {
            if cell.status == .failed, screen.exclusion == nil {
                let message = cell.error.map { "\($0.kind.rawValue): \($0.message)" } ?? "failed"
                screen.exclusion = Exclusion(.failed, "batch \(cell.variant.batchSize): \(message)")
            }
            if let latency = cell.latencyMS?.p50 {
                screen.batches.append(.init(batch: cell.variant.batchSize, latencyMS: latency, perS: cell.throughputPerS))
            }
            if let a = cell.accuracy, screen.accuracy == nil || !a.withinTolerance {
                screen.accuracy = AccuracyFigure(maxRelErr: a.maxRelErr, cosine: a.cosine, withinTolerance: a.withinTolerance)
            }
            if let mb = cell.memoryMB.flatMap(Self.memory) { screen.memoryMB = max(screen.memoryMB ?? 0, mb) }
            if let cold = cell.coldStart, cell.coldStart?.batchReuse == nil || screen.coldStartS == nil {
                screen.coldStartS = cold.toReadyS
                screen.compileCache = cold.compileCache
            }
        }
        return screen
    }

    /// Device memory where there is a device, else the worker's resident memory.
    static func memory(_ m: MemoryFigures) -> Double? { m.deviceUsed ?? m.peakReserved ?? m.peakAllocated ?? m.workerRSS }

    /// The first limit the variant breaks, checked in the order a user can least change:
    /// a failure, accuracy, memory, cold start, then a single request's latency.
    mutating func judge(_ question: RecommendQuestion) {
        guard exclusion == nil else { return }
        if let a = accuracy, !a.withinTolerance {
            let (error, cosine, precision) = (Self.error(a.maxRelErr), String(format: "%.4f", a.cosine), variant.precision.rawValue)
            exclusion = Exclusion(
                .accuracy, "max relative error \(error), cosine \(cosine): outside \(precision)'s tolerance",
                zh: "最大相对误差 \(error),余弦相似度 \(cosine):超出 \(precision) 的容差")
        } else if let limit = question.maxMemoryMB, let mb = memoryMB, mb > limit {
            exclusion = Exclusion(
                .memory, "\(Format.count(mb)) MB per worker, over --max-memory-mb \(Format.count(limit))",
                zh: "每个 worker \(Format.count(mb)) MB,超过 --max-memory-mb \(Format.count(limit))")
        } else if let limit = question.maxColdStartS, let s = coldStartS, s > limit {
            exclusion = Exclusion(
                .coldStart, "\(Format.seconds(s)) to ready, over --max-cold-start \(Format.seconds(limit))",
                zh: "\(Format.seconds(s)) 后就绪,超过 --max-cold-start \(Format.seconds(limit))")
        } else if let single = singleLatencyMS, single > question.slaP99MS {
            let bound = Format.trimmed(question.slaP99MS)
            exclusion = Exclusion(
                .sla, "one request alone takes \(Format.ms(single)) ms (median), over the P99 bound of \(bound) ms",
                zh: "单个请求本身就要 \(Format.ms(single)) ms(中位数),超过 P99 上限 \(bound) ms")
        } else if batches.isEmpty {
            exclusion = Exclusion(.failed, "the screen measured no batch of it", zh: "筛选没有测到它的任何批")
        }
    }

    static func error(_ value: Double) -> String { value.isFinite ? String(format: "%.3g", value) : "not finite" }
}

extension ServingConfig {
    /// A configuration's own limits, given its variant passed the screen: a full batch that
    /// alone breaks the bound, or workers whose memory together exceeds the limit.
    func exclusion(_ screen: VariantScreen, _ question: RecommendQuestion) -> Exclusion? {
        if let full = screen.figure(batch: maxBatch), full.latencyMS > question.slaP99MS {
            let bound = Format.trimmed(question.slaP99MS)
            return Exclusion(
                .sla, "a full batch of \(maxBatch) takes \(Format.ms(full.latencyMS)) ms (median), over the P99 bound of \(bound) ms",
                zh: "满批 \(maxBatch) 要 \(Format.ms(full.latencyMS)) ms(中位数),超过 P99 上限 \(bound) ms")
        }
        if let limit = question.maxMemoryMB, let mb = screen.memoryMB, mb * Double(workers) > limit {
            let sum = "\(workers) × \(Format.count(mb)) MB = \(Format.count(mb * Double(workers))) MB"
            return Exclusion(
                .memory, "\(workers) workers: \(sum), over --max-memory-mb \(Format.count(limit))",
                zh: "\(workers) 个 worker:\(sum),超过 --max-memory-mb \(Format.count(limit))")
        }
        return nil
    }

    /// The screen's ceiling for this configuration: its workers each running full batches
    /// back to back (the order the first round measures in; never a figure in the answer).
    func estimate(_ screen: VariantScreen) -> Double? {
        guard let perS = screen.figure(batch: maxBatch)?.perS ?? screen.batches.last?.perS else { return nil }
        return perS * Double(workers)
    }
}
