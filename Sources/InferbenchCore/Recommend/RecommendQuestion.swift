import Foundation

/// What `inferbench recommend` is asked: the model, the service's P99 bound and peak, what a
/// GPU costs, the limits a configuration must keep, and the settings it may choose among.
/// Saved in the search folder, so `--resume` and `--check` answer the same question.
public struct RecommendQuestion: Codable, Sendable, Equatable {
    public var model: String
    public var slaP99MS: Double
    public var peakQPS: Double?
    /// The share of each GPU's capacity kept free at the peak: 0.3 plans each GPU at 70%.
    public var headroom: Double
    public var gpuPricePerHour: Double?
    public var maxMemoryMB: Double?
    public var maxColdStartS: Double?
    public var budgetS: Double
    public var space: SearchSpace
    public var device: DeviceChoice
    public var channelsLast: Bool
    public var seed: Int
    /// Seconds of each step of the first round's SLA search; each later round doubles it.
    public var stepS: Double

    public init(
        model: String, slaP99MS: Double, peakQPS: Double? = nil, headroom: Double = 0.3, gpuPricePerHour: Double? = nil,
        maxMemoryMB: Double? = nil, maxColdStartS: Double? = nil, budgetS: Double = 1800, space: SearchSpace, device: DeviceChoice = .auto,
        channelsLast: Bool = false, seed: Int = 0, stepS: Double = 5
    ) {
        self.model = model
        self.slaP99MS = slaP99MS
        self.peakQPS = peakQPS
        self.headroom = headroom
        self.gpuPricePerHour = gpuPricePerHour
        self.maxMemoryMB = maxMemoryMB
        self.maxColdStartS = maxColdStartS
        self.budgetS = budgetS
        self.space = space
        self.device = device
        self.channelsLast = channelsLast
        self.seed = seed
        self.stepS = stepS
    }

    /// The flags every stage's command shares: the model, how it is placed and seeded.
    var modelArguments: [String] {
        var args = ["--model", model, "--device", device.description, "--seed", String(seed)]
        if channelsLast { args.append("--channels-last") }
        return args
    }
}

/// The settings `recommend` chooses among: the variants (compile mode × precision) and the
/// serving settings of each (max batch × max delay × workers per GPU).
public struct SearchSpace: Codable, Sendable, Equatable {
    public var compile: [CompileMode]
    public var precision: [Precision]
    public var maxBatch: [Int]
    public var maxDelayMS: [Double]
    public var workers: [Int]

    public init(compile: [CompileMode], precision: [Precision], maxBatch: [Int], maxDelayMS: [Double], workers: [Int]) {
        self.compile = compile
        self.precision = precision
        self.maxBatch = maxBatch
        self.maxDelayMS = maxDelayMS
        self.workers = workers
    }

    /// What is searched when the flags leave it open: on a GPU eager against the two compile
    /// modes that serve (max-autotune's compile takes too long for a search's budget) at the
    /// three precisions serving uses; on a CPU, where fp16 has no fast kernels, fp32 only.
    public static func defaults(gpu: Bool) -> SearchSpace {
        gpu
            ? SearchSpace(compile: [.eager, .default, .reduceOverhead], precision: [.fp32, .fp16, .bf16], maxBatch: [8, 32], maxDelayMS: [2], workers: [1])
            : SearchSpace(compile: [.eager, .default], precision: [.fp32], maxBatch: [1, 8], maxDelayMS: [2], workers: [1])
    }

    public var variants: [VariantKey] { compile.flatMap { c in precision.map { VariantKey(compile: c, precision: $0) } } }

    public var configs: [ServingConfig] {
        variants.flatMap { v in
            maxBatch.flatMap { b in maxDelayMS.flatMap { d in workers.map { ServingConfig(variant: v, maxBatch: b, maxDelayMS: d, workers: $0) } } }
        }
    }
}

/// A model variant: how it is compiled and at which precision.
public struct VariantKey: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var compile: CompileMode
    public var precision: Precision

    public init(compile: CompileMode, precision: Precision) {
        self.compile = compile
        self.precision = precision
    }

    public var description: String { "\(compile.rawValue) \(precision.rawValue)" }

    public static func < (a: Self, b: Self) -> Bool { a.description < b.description }
}

/// One configuration to deploy: a variant and how the server batches it.
public struct ServingConfig: Codable, Sendable, Hashable, CustomStringConvertible {
    public var variant: VariantKey
    public var maxBatch: Int
    public var maxDelayMS: Double
    public var workers: Int

    public init(variant: VariantKey, maxBatch: Int, maxDelayMS: Double, workers: Int) {
        self.variant = variant
        self.maxBatch = maxBatch
        self.maxDelayMS = maxDelayMS
        self.workers = workers
    }

    /// A folder name: `default-fp16-b32-d2-w1`.
    public var id: String {
        "\(variant.compile.rawValue)-\(variant.precision.rawValue)-b\(maxBatch)-d\(Format.trimmed(maxDelayMS))-w\(workers)"
    }

    public var description: String {
        "\(variant), max batch \(maxBatch), delay \(Format.trimmed(maxDelayMS)) ms, \(workers) worker\(workers == 1 ? "" : "s")"
    }

    /// The `inferbench load` flags that serve this configuration.
    public func loadArguments(_ question: RecommendQuestion) -> [String] {
        question.modelArguments + [
            "--compile", variant.compile.rawValue, "--precision", variant.precision.rawValue, "--max-batch", String(maxBatch),
            "--max-delay", Format.trimmed(maxDelayMS), "--workers", String(workers),
        ]
    }
}
