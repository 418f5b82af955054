import Foundation

/// A Python environment that runs workers, named for reports (`torch26=/opt/py/bin/python`).
public struct PythonEnvironmentSpec: Codable, Sendable, Hashable {
    public var name: String
    public var python: String

    public init(name: String, python: String) {
        self.name = name
        self.python = python
    }
}

/// What to benchmark: the matrix of models × variants × batch sizes, and how to measure.
public struct Plan: Codable, Sendable, Equatable {
    public var models: [ModelSpec]
    public var compile: [CompileMode]
    public var precision: [Precision]
    public var batch: [Int]
    /// Sequence lengths to sweep (`--seq`), set as each model's `seq` (over a `seq=` the model
    /// names); empty: as the model says.
    public var seq: [Int] = []
    /// How compiled variants treat shapes (`--shapes`); empty: from `dynamic`, else static and
    /// dynamic side by side when several lengths are swept, else PyTorch's default.
    public var shapes: [GraphShapes] = []
    public var device: DeviceChoice
    public var channelsLast: Bool
    public var fullgraph: Bool
    public var dynamic: Bool?
    public var seed: Int
    public var verify: Bool
    public var throughput: Bool
    public var stopping: StoppingRule
    /// Measure compared variants (same model, precision, batch) in alternating rounds.
    public var interleave: Bool = true
    /// Whole measurements per cell, pooled; each repeat's median is reported.
    public var repeats: Int = 1
    /// Batch sweeps keep each variant's worker and model across batch sizes, so that a
    /// compiled variant recompiles (or reuses a dynamic graph) instead of starting over.
    /// false: every batch size gets fresh workers, a fresh load and a fresh compile.
    public var batchReuse: Bool = true
    /// Fresh worker processes per cell (`--processes`), interleaved process for process.
    public var processes: ProcessCount = .auto
    /// Pin each worker to its own CPUs, away from inferbench's (`--pin`).
    public var pin: Bool = false
    /// torch's intra-op threads in each worker (`--threads`); nil: the default for the host.
    public var threads: Int? = nil
    /// A folder where aot-inductor cells keep the package they build, as `<cell>.pt2` with its
    /// example inputs in `<cell>.pt2.inputs.pt` (`--keep-packages`); nil: packages are temporary.
    public var packageDir: String? = nil

    /// Where the cell `spec` keeps its AOTInductor package, if it builds one and packages are kept.
    public func packagePath(_ spec: CellSpec) -> String? {
        guard let packageDir, spec.variant.compile == .aotInductor else { return nil }
        let name = String(spec.id.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
        return URL(fileURLWithPath: packageDir).appending(path: name + ".pt2").path
    }

    public init(
        models: [ModelSpec], compile: [CompileMode] = [.eager], precision: [Precision] = [.fp32], batch: [Int] = [1],
        device: DeviceChoice = .auto, channelsLast: Bool = false, fullgraph: Bool = false, dynamic: Bool? = nil,
        seed: Int = 0, verify: Bool = true, throughput: Bool = true, stopping: StoppingRule = StoppingRule()
    ) {
        self.models = models
        self.compile = compile
        self.precision = precision
        self.batch = batch
        self.device = device
        self.channelsLast = channelsLast
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.seed = seed
        self.verify = verify
        self.throughput = throughput
        self.stopping = stopping
    }

    enum CodingKeys: String, CodingKey {
        case models, compile, precision, batch, device, seed, verify, throughput, stopping, fullgraph, dynamic
        case seq, shapes
        case channelsLast = "channels_last"
        case interleave, repeats
        case batchReuse = "batch_reuse"
        case processes, pin, threads
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(models: try c.decode([ModelSpec].self, forKey: .models))
        compile = try c.decodeIfPresent([CompileMode].self, forKey: .compile) ?? compile
        precision = try c.decodeIfPresent([Precision].self, forKey: .precision) ?? precision
        batch = try c.decodeIfPresent([Int].self, forKey: .batch) ?? batch
        seq = try c.decodeIfPresent([Int].self, forKey: .seq) ?? seq
        shapes = try c.decodeIfPresent([GraphShapes].self, forKey: .shapes) ?? shapes
        device = try c.decodeIfPresent(DeviceChoice.self, forKey: .device) ?? device
        channelsLast = try c.decodeIfPresent(Bool.self, forKey: .channelsLast) ?? channelsLast
        fullgraph = try c.decodeIfPresent(Bool.self, forKey: .fullgraph) ?? fullgraph
        dynamic = try c.decodeIfPresent(Bool.self, forKey: .dynamic) ?? dynamic
        seed = try c.decodeIfPresent(Int.self, forKey: .seed) ?? seed
        verify = try c.decodeIfPresent(Bool.self, forKey: .verify) ?? verify
        throughput = try c.decodeIfPresent(Bool.self, forKey: .throughput) ?? throughput
        stopping = try c.decodeIfPresent(StoppingRule.self, forKey: .stopping) ?? stopping
        interleave = try c.decodeIfPresent(Bool.self, forKey: .interleave) ?? interleave
        repeats = try c.decodeIfPresent(Int.self, forKey: .repeats) ?? repeats
        batchReuse = try c.decodeIfPresent(Bool.self, forKey: .batchReuse) ?? batchReuse
        processes = try c.decodeIfPresent(ProcessCount.self, forKey: .processes) ?? processes
        pin = try c.decodeIfPresent(Bool.self, forKey: .pin) ?? pin
        threads = try c.decodeIfPresent(Int.self, forKey: .threads)
    }

    /// Checks what can be checked without a worker.
    public func validate() throws(InferbenchError) {
        if models.isEmpty { throw .badInput("no model given: add --model NAME (see `inferbench models`)") }
        if batch.isEmpty { throw .badInput("--batch: give at least one batch size, e.g. --batch 1,8") }
        for b in batch where b < 1 || b > 65536 {
            throw .badInput("--batch \(b): a batch size must be between 1 and 65536")
        }
        for length in seq where !(1...65536).contains(length) {
            throw .badInput("--seq \(length): a sequence length is a whole number from 1 to 65536, e.g. --seq 64,128,256,512")
        }
        if Set(seq).count != seq.count { throw .badInput("--seq: each length once, e.g. --seq 64,128,256,512") }
        if Set(shapes).count != shapes.count { throw .badInput("--shapes: each of auto, static, dynamic once") }
        if compile.isEmpty { throw .badInput("--compile: give at least one mode, e.g. --compile eager,default") }
        if precision.isEmpty { throw .badInput("--precision: give at least one, e.g. --precision fp32") }
        if stopping.targetCI <= 0 || stopping.targetCI >= 1 {
            throw .badInput("--target-ci \(stopping.targetCI): give a fraction between 0 and 1, e.g. 0.01 for ±1%")
        }
        if stopping.maxTime < stopping.minTime {
            throw .badInput("--max-time \(stopping.maxTime) is below --min-time \(stopping.minTime)")
        }
        if let n = stopping.iterations, n < 1 { throw .badInput("--iterations \(n): give at least 1") }
        if repeats < 1 || repeats > 100 { throw .badInput("--repeats \(repeats): give a number from 1 to 100") }
        if case .fixed(let n) = processes, !(1...ProcessCount.most).contains(n) {
            throw .badInput("--processes \(n): give auto or a number from 1 to \(ProcessCount.most)")
        }
        if let threads, !(1...4096).contains(threads) { throw .badInput("--threads \(threads): give a number of threads ≥ 1") }
    }

    /// Every model at every length of the sweep (the models as given without `seq`).
    public var sizedModels: [ModelSpec] {
        seq.isEmpty ? models : models.flatMap { model in seq.map { model.at(length: $0) } }
    }

    /// The shape strategies compiled variants are measured with.
    public var graphShapes: [GraphShapes] {
        if !shapes.isEmpty { return shapes }
        if let dynamic { return [GraphShapes(dynamic: dynamic)] }
        return seq.count > 1 ? [.static, .dynamic] : [.auto]
    }

    /// One cell per model × precision × length × batch × compile × shape strategy, in that
    /// nesting order, so the cells that are compared with each other (same model, length and
    /// batch) run close in time. Eager has one cell where compiled modes have a strategy each.
    public func cells(environment: String) -> [CellSpec] {
        var cells: [CellSpec] = []
        let lengths: [Int?] = seq.isEmpty ? [nil] : seq
        for model in models {
            for precision in precision {
                for length in lengths {
                    let sized = length.map { model.at(length: $0) } ?? model
                    for batch in batch {
                        for compile in compile {
                            for shapes in compile == .eager ? [graphShapes[0]] : graphShapes {
                                let variant = Variant(
                                    compile: compile, precision: precision, batchSize: batch,
                                    channelsLast: channelsLast, fullgraph: fullgraph, dynamic: compile == .eager ? dynamic : shapes.dynamic)
                                cells.append(CellSpec(model: sized, environment: environment, variant: variant))
                            }
                        }
                    }
                }
            }
        }
        return cells
    }
}

extension Plan {
    /// Cells grouped into batch (and length) sweeps, in plan order.
    ///
    /// A sweep holds the variants compared with each other (same model, precision and memory
    /// format; every environment, so that PyTorch versions are compared in alternating rounds
    /// too), and one step per shape: `sweep[i]` is the cells of the i-th length × batch size,
    /// one per lane (see `lane(of:)`). A lane keeps its worker from step to step when
    /// `batchReuse` is on. Without interleaving every lane is a sweep of its own; without
    /// batch reuse every shape is.
    public func sweeps(_ cells: [CellSpec]) -> [[[CellSpec]]] {
        var order: [String] = []
        var sweeps: [String: (shapes: [String], steps: [String: [CellSpec]])] = [:]
        for cell in cells {
            // One loaded model serves every length of a sweep, as it serves every batch size.
            var key = "\(cell.model.withoutLength)|\(cell.variant.precision)|\(cell.variant.channelsLast)"
            if !interleave { key += "|" + Self.lane(of: cell) }
            if !batchReuse { key += "|\(cell.model.length.map(String.init) ?? "-")|\(cell.variant.batchSize)" }
            if sweeps[key] == nil {
                order.append(key)
                sweeps[key] = ([], [:])
            }
            let shape = "\(cell.model.length.map(String.init) ?? "-")|\(cell.variant.batchSize)"
            if sweeps[key]!.steps[shape] == nil { sweeps[key]!.shapes.append(shape) }
            sweeps[key]!.steps[shape, default: []].append(cell)
        }
        return order.map { key in sweeps[key]!.shapes.map { sweeps[key]!.steps[$0]! } }
    }

    /// A cell's lane in its sweep: its environment and variant without the batch size.
    public static func lane(of cell: CellSpec) -> String {
        let v = cell.variant
        return "\(cell.environment)|\(v.compile)|\(v.fullgraph)|\(v.dynamic.map(String.init) ?? "-")"
    }
}

/// How many fresh worker processes measure each cell.
public enum ProcessCount: Sendable, Equatable, Codable, CustomStringConvertible {
    /// 2 on a GPU, grown up to ``autoMost`` while the processes disagree; 1 on a CPU.
    case auto
    case fixed(Int)

    public static let most = 20
    public static let autoMost = 5

    /// Parses `auto` or a whole number from 1 to ``most``.
    public init(parsing text: String) throws(InferbenchError) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "auto" { self = .auto; return }
        guard let n = Int(t), (1...Self.most).contains(n) else {
            throw .badInput("--processes \(text): give auto or a whole number from 1 to \(Self.most)")
        }
        self = .fixed(n)
    }

    /// The processes to start with, and the most to grow to while they disagree (`autoMost`
    /// for `auto`: `load` restarts all its workers per start, so it grows less).
    public func range(gpu: Bool, autoMost: Int = ProcessCount.autoMost) -> (start: Int, most: Int) {
        switch self {
        case .fixed(let n): return (n, n)
        case .auto: return gpu ? (2, autoMost) : (1, 1)
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .fixed(let n): return String(n)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            self = .fixed(n)
            return
        }
        let text = try c.decode(String.self)
        do { self = try ProcessCount(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .fixed(let n): try c.encode(n)
        }
    }
}

/// One cell of the matrix, before it runs.
public struct CellSpec: Sendable, Hashable, Codable {
    public var model: ModelSpec
    public var environment: String
    public var variant: Variant

    public var id: String { "\(model)|\(environment)|\(variant.label)" }
}

/// Default plans fitted to the hardware found.
public enum DefaultPlans {
    /// The guide's assessment on a GPU; a small, honest sweep on a CPU that finishes in minutes.
    public static func forHardware(hasCUDA: Bool) -> Plan {
        if hasCUDA {
            return Plan(
                models: [ModelSpec(name: "resnet50"), ModelSpec(name: "bert-base", params: ["seq": "128"])],
                compile: [.eager, .default, .reduceOverhead], precision: [.fp32, .fp16], batch: [1, 8, 32])
        }
        var stopping = StoppingRule()
        stopping.maxTime = 6
        stopping.maxWarmup = 5
        return Plan(
            models: [ModelSpec(name: "resnet18"), ModelSpec(name: "bert-tiny")],
            compile: [.eager, .default], precision: [.fp32], batch: [1, 8], stopping: stopping)
    }

    /// The note that says which default plan runs, and for which hardware.
    public static func announcement(_ plan: Plan, gpu: Bool) -> String {
        let models = plan.models.map(\.description).joined(separator: ", ")
        let modes = plan.compile.map(\.rawValue).joined(separator: ",")
        let batches = plan.batch.map(String.init).joined(separator: ",")
        return "No --model given: running the default plan for \(gpu ? "a GPU" : "a CPU-only machine") (\(models); \(modes); batch \(batches))"
    }
}
