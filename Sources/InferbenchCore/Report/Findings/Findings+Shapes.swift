import Foundation

extension Findings {
    /// A static graph per length against one dynamic graph, for one compiled variant swept over
    /// lengths (`run --seq … --shapes static,dynamic`): what each costs to compile over the
    /// sweep, how fast each runs at each length, and when static's extra compiles pay back.
    public struct ShapeStrategies: Sendable, Equatable {
        public struct Length: Sendable, Equatable {
            public var length: Int
            public var staticP50: Double
            public var dynamicP50: Double
            /// Static over dynamic (> 1: the static graph is faster), paired where measured side by side.
            public var speedup: Speedup?
        }
        /// The model without its length.
        public var model: String
        public var environment: String
        /// The variant without batch size and shape strategy, e.g. `default/fp16`.
        public var family: String
        public var batch: Int
        public var lengths: [Length]
        /// Compile seconds over the whole sweep: the first load's compile and every recompile.
        public var staticCompileS: Double
        public var dynamicCompileS: Double
        /// When static's extra compile time is paid back by its faster calls, spread evenly
        /// over the lengths measured: `.never` unless static is significantly faster at one
        /// length at least and faster on average; nil when static compiled no longer.
        public var payback: Payback?
    }

    /// Pairs of static and dynamic series measured at two lengths or more.
    static func shapeStrategies(_ ok: [CellResult], comparisons: [String: Comparison] = [:]) -> [ShapeStrategies] {
        let swept = ok.filter { $0.variant.compile != .eager && $0.variant.dynamic != nil && Self.length(of: $0) != nil }
        var order: [String] = []
        var groups: [String: [CellResult]] = [:]
        for cell in swept {
            let key = strategyKey(cell)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(cell)
        }
        return order.compactMap { key in
            let cells = groups[key]!
            let statics = cells.filter { $0.variant.dynamic == false }, dynamics = cells.filter { $0.variant.dynamic == true }
            var lengths: [ShapeStrategies.Length] = []
            for s in statics {
                guard let n = Self.length(of: s), let d = dynamics.first(where: { Self.length(of: $0) == n }) else { continue }
                lengths.append(
                    .init(length: n, staticP50: s.latencyMS!.p50, dynamicP50: d.latencyMS!.p50, speedup: speedup(of: s, over: d, comparisons: comparisons)))
            }
            guard lengths.count >= 2, let first = cells.first else { return nil }
            lengths.sort { $0.length < $1.length }
            let measured = Set(lengths.map(\.length))
            func compiled(_ cells: [CellResult]) -> Double {
                cells.filter { measured.contains(Self.length(of: $0) ?? -1) }.compactMap { $0.coldStart?.compileS }.reduce(0, +)
            }
            let staticS = compiled(statics), dynamicS = compiled(dynamics)
            return ShapeStrategies(
                model: ModelSpec.withoutLength(first.model),
                environment: first.environment, family: strategyFamily(first.variant), batch: first.variant.batchSize, lengths: lengths,
                staticCompileS: staticS, dynamicCompileS: dynamicS, payback: payback(lengths, extraS: staticS - dynamicS))
        }
    }

    /// Static's extra compile seconds over the mean per-call saving (dynamic p50 − static p50).
    static func payback(_ lengths: [ShapeStrategies.Length], extraS: Double) -> Payback? {
        guard extraS > 0 else { return nil }
        let saving = lengths.map { $0.dynamicP50 - $0.staticP50 }.reduce(0, +) / Double(lengths.count)
        let faster = lengths.contains { ($0.speedup?.significant ?? false) && $0.speedup!.ratio > 1 }
        guard faster, saving > 0 else { return .never }
        return .after(calls: extraS * 1000 / saving)
    }

    static func length(of cell: CellResult) -> Int? { ModelSpec.length(of: cell.model) }

    static func strategyFamily(_ v: Variant) -> String {
        var plain = v
        plain.dynamic = nil
        return plain.family
    }

    static func strategyKey(_ cell: CellResult) -> String {
        "\(ModelSpec.withoutLength(cell.model))|\(cell.environment)|\(strategyFamily(cell.variant))|\(cell.variant.batchSize)"
    }
}
