import Foundation

/// The sequence length of each request of a load test (`load --seq-len`), for a model with a
/// length axis (bert's `seq`): real text is neither one length nor padded to the longest.
///
/// Four forms:
/// - `128`: every request 128 tokens;
/// - `32:512`: uniform over the whole numbers from 32 to 512;
/// - `lognormal:median=128,sigma=0.6,max=512[,min=1]`: rounded lognormal draws, clamped to
///   [min, max] (clamped, not redrawn, so the tail's weight lands on `max` as truncation
///   by a tokenizer would);
/// - `file:PATH`: the lengths of a file, one whole number a line (`#` comments and blank
///   lines skipped), drawn uniformly: the file is the empirical distribution.
/// Draws are seeded (``Sampler``), so two runs with one seed send the same lengths.
public struct SequenceLengths: Sendable, Equatable, CustomStringConvertible {
    public enum Form: Sendable, Equatable {
        case constant(Int)
        case uniform(Int, Int)
        case lognormal(median: Double, sigma: Double, min: Int, max: Int)
        /// The lengths of a file, in file order; `source` is the file's name.
        case empirical([Int], source: String)
        /// One of the values listed, each as likely (`load --image-size 224,256,320`).
        case choices([Int])
    }

    public let form: Form

    public init(_ form: Form) { self.form = form }

    /// The shortest and longest length a draw can give.
    public var range: ClosedRange<Int> {
        switch form {
        case .constant(let n): return n...n
        case .uniform(let lo, let hi): return lo...hi
        case .lognormal(_, _, let lo, let hi): return lo...hi
        case .empirical(let lengths, _), .choices(let lengths): return lengths.min()!...lengths.max()!
        }
    }

    /// Every length a draw can give, in increasing order.
    public var support: [Int] {
        if case .empirical(let lengths, _) = form { return Array(Set(lengths)).sorted() }
        if case .choices(let values) = form { return Array(Set(values)).sorted() }
        return Array(range)
    }

    public var description: String {
        switch form {
        case .constant(let n): return String(n)
        case .uniform(let lo, let hi): return "\(lo):\(hi)"
        case .lognormal(let median, let sigma, let lo, let hi):
            return "lognormal:median=\(Format.raw(median)),sigma=\(Format.raw(sigma)),max=\(hi)" + (lo == 1 ? "" : ",min=\(lo)")
        // A trace's lengths name their trace (`trace:NAME`); a file's, their file.
        case .empirical(_, let source): return source.hasPrefix("trace:") ? source : "file:\(source)"
        case .choices(let values): return values.map(String.init).joined(separator: ",")
        }
    }

    /// A seeded stream of lengths.
    public struct Sampler: Sendable {
        let form: Form
        var rng: SeededGenerator

        public mutating func next() -> Int {
            switch form {
            case .constant(let n): return n
            case .uniform(let lo, let hi): return Int.random(in: lo...hi, using: &rng)
            case .lognormal(let median, let sigma, let lo, let hi):
                let draw = (median * exp(sigma * rng.normal())).rounded()
                return Swift.min(hi, Swift.max(lo, draw.isFinite ? Int(Swift.min(draw, 1e9)) : hi))
            case .empirical(let lengths, _), .choices(let lengths): return lengths[Int.random(in: 0..<lengths.count, using: &rng)]
            }
        }
    }

    public func sampler(seed: UInt64) -> Sampler { Sampler(form: form, rng: SeededGenerator(seed: seed ^ 0x5EC1_E46A)) }

    /// The longest length a flag accepts: far beyond any model's positions, and a bound on
    /// the shapes a worker is asked to make.
    public static let most = 1_048_576

    /// Parses `--image-size`: image sides in pixels, one or a comma-separated list, each
    /// request one of them; every error names the flag and the fix.
    public static func parseSizes(_ text: String) throws(InferbenchError) -> SequenceLengths {
        var sizes: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), (1...65536).contains(n) else {
                throw .badInput("--image-size \(text): give image sides in pixels, one or a list, e.g. --image-size 224,256,320")
            }
            guard !sizes.contains(n) else { throw .badInput("--image-size \(text): \(n) is listed twice; give each size once") }
            sizes.append(n)
        }
        return SequenceLengths(sizes.count == 1 ? .constant(sizes[0]) : .choices(sizes))
    }

    /// Parses `--seq-len`; every error names the flag (and the file and line) and the fix.
    public static func parse(_ text: String) throws(InferbenchError) -> SequenceLengths {
        let t = text.trimmingCharacters(in: .whitespaces)
        let usage = "give N, LOW:HIGH, lognormal:median=M,sigma=S,max=X or file:PATH, e.g. --seq-len 32:512"
        if t.hasPrefix("file:") { return try load(path: String(t.dropFirst(5))) }
        if t.hasPrefix("lognormal:") { return try lognormal(String(t.dropFirst(10)), text: text) }
        let parts = t.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count), let lo = Int(parts[0]), let hi = Int(parts[parts.count - 1]) else {
            throw .badInput("--seq-len \(text): \(usage)")
        }
        try check(lo, what: "the shortest length", text: text)
        try check(hi, what: "the longest length", text: text)
        guard lo <= hi else { throw .badInput("--seq-len \(text): \(lo) is above \(hi); give LOW:HIGH, e.g. \(hi):\(lo)") }
        return SequenceLengths(lo == hi ? .constant(lo) : .uniform(lo, hi))
    }

    static func check(_ n: Int, what: String, text: String) throws(InferbenchError) {
        guard (1...most).contains(n) else { throw .badInput("--seq-len \(text): \(what) \(n) must be from 1 to \(most) tokens") }
    }

    static func lognormal(_ rest: String, text: String) throws(InferbenchError) -> SequenceLengths {
        var values: [String: Double] = [:]
        for pair in rest.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, ["median", "sigma", "max", "min"].contains(kv[0]), let v = Double(kv[1]), v.isFinite else {
                throw .badInput("--seq-len \(text): `\(pair)` is not median=, sigma=, max= or min= with a number; e.g. lognormal:median=128,sigma=0.6,max=512")
            }
            values[kv[0]] = v
        }
        guard let median = values["median"], let sigma = values["sigma"], let hi = values["max"] else {
            throw .badInput("--seq-len \(text): lognormal needs median=, sigma= and max=, e.g. lognormal:median=128,sigma=0.6,max=512")
        }
        let lo = values["min"] ?? 1
        guard median > 0, sigma >= 0, sigma <= 5 else {
            throw .badInput("--seq-len \(text): give median > 0 tokens and sigma from 0 to 5 (the log-scale spread; 0.6 is typical of text)")
        }
        guard lo == lo.rounded(), hi == hi.rounded() else { throw .badInput("--seq-len \(text): min= and max= are whole numbers of tokens") }
        try check(Int(lo), what: "min", text: text)
        try check(Int(hi), what: "max", text: text)
        guard lo <= hi, median <= hi, median >= lo else {
            throw .badInput("--seq-len \(text): give min ≤ median ≤ max (got min \(Int(lo)), median \(Format.raw(median)), max \(Int(hi)))")
        }
        return SequenceLengths(.lognormal(median: median, sigma: sigma, min: Int(lo), max: Int(hi)))
    }

    static func load(path: String) throws(InferbenchError) -> SequenceLengths {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .badInput("--seq-len file:\(path): cannot read the file (\(error.localizedDescription)); give a file of lengths, one a line")
        }
        return try parseFile(text, name: path)
    }

    public static func parseFile(_ text: String, name: String) throws(InferbenchError) -> SequenceLengths {
        var lengths: [Int] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let n = Int(line), (1...most).contains(n) else {
                throw .badInput("--seq-len file:\(name) line \(index + 1): \(line) is not a length; give one whole number of tokens (1 to \(most)) a line")
            }
            lengths.append(n)
        }
        guard !lengths.isEmpty else { throw .badInput("--seq-len file:\(name): no lengths in the file; give one whole number of tokens a line") }
        return SequenceLengths(.empirical(lengths, source: (name as NSString).lastPathComponent))
    }
}

/// How a request's length is padded for batching (`--pad-to`): requests of one padded length
/// batch together, and a worker runs each batch at its padded length.
public enum LengthPadding: Sendable, Equatable, CustomStringConvertible {
    /// Up to a multiple of N (the longest length is a bucket of its own when it is not one).
    case multiple(Int)
    /// Up to a power of two (the longest length likewise).
    case pow2
    /// Not at all: only requests of equal length batch together.
    case none

    public static func parse(_ text: String) throws(InferbenchError) -> LengthPadding {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "pow2" { return .pow2 }
        if t == "none" { return .none }
        guard let n = Int(t), (1...SequenceLengths.most).contains(n) else {
            throw .badInput("--pad-to \(text): give a multiple such as 64, pow2, or none (batch only equal lengths)")
        }
        return n == 1 ? .none : .multiple(n)
    }

    public var description: String {
        switch self {
        case .multiple(let n): return String(n)
        case .pow2: return "pow2"
        case .none: return "none"
        }
    }

    /// The padded lengths that `lengths` can give, increasing: every bucket a worker may run.
    public func buckets(for lengths: SequenceLengths) -> [Int] {
        let range = lengths.range
        switch self {
        case .none: return lengths.support
        case .multiple(let n): return Self.steps(range) { ($0 + n - 1) / n * n }
        case .pow2: return Self.steps(range) { $0 <= 1 ? 1 : 1 << (Int.bitWidth - ($0 - 1).leadingZeroBitCount) }
        }
    }

    /// The distinct values of `up` over `range`, capped at the range's top.
    private static func steps(_ range: ClosedRange<Int>, up: (Int) -> Int) -> [Int] {
        var out: [Int] = []
        var n = range.lowerBound
        while n <= range.upperBound {
            let bucket = Swift.min(up(n), range.upperBound)
            out.append(bucket)
            n = bucket + 1
        }
        return out
    }
}

/// What offline batches of a test with lengths ran at.
public enum OfflineLengths: String, Codable, Sendable {
    /// Padded lengths drawn like the requests', every length warm.
    case drawn
    /// The longest, loaded length: not every length was warm (and results from before
    /// offline drew lengths).
    case loaded

    /// Drawn only when every length was warmed: a cold shape would time a compile.
    public init(warmup: ShapeWarmup) { self = warmup == .all ? .drawn : .loaded }
}

/// What varies per request: a text model's sequence length (`--seq-len`, bert's `seq`) or an
/// image model's side (`--image-size`, resnet's `size`). The worker's catalogue names each
/// model's axis by its parameter.
public enum LengthAxis: String, Codable, Sendable {
    case seq
    case size

    /// The load flag that sets this axis.
    public var flag: String { self == .seq ? "--seq-len" : "--image-size" }
}

/// The lengths of a load test: where each request's comes from, and the buckets it is padded to.
public struct LengthPlan: Sendable, Equatable {
    public var lengths: SequenceLengths
    public var padding: LengthPadding
    /// Increasing; the last is the longest length.
    public let buckets: [Int]

    public init(lengths: SequenceLengths, padding: LengthPadding) {
        self.lengths = lengths
        self.padding = padding
        self.buckets = padding.buckets(for: lengths)
    }

    /// The length a request of `length` tokens runs at: the smallest bucket that holds it.
    public func padded(_ length: Int) -> Int { buckets.first { $0 >= length } ?? buckets[buckets.count - 1] }
}

/// Which shapes the workers run before the test (`--warmup-shapes`), so that compiles and
/// autotuning happen before, not in, the measured latencies: every batch bucket at each of
/// the lengths named, at all length buckets, or at none but the one the model was loaded at
/// (then the first request of each new shape pays its compile, and the report shows it).
public enum ShapeWarmup: Sendable, Equatable, CustomStringConvertible {
    case all
    case none
    case lengths([Int])

    /// The most shapes (batch buckets × lengths) a warm-up runs: a finer padding would warm for
    /// hours under torch.compile; past it, pad coarser or name the lengths.
    public static let mostShapes = 512

    public static func parse(_ text: String, plan: LengthPlan) throws(InferbenchError) -> ShapeWarmup {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "all" { return .all }
        if t == "none" { return .none }
        var lengths: [Int] = []
        for part in t.split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw .badInput(
                    "--warmup-shapes \(text): give all, none, or lengths separated by commas, e.g. \(plan.buckets.prefix(3).map(String.init).joined(separator: ","))"
                )
            }
            guard plan.buckets.contains(n) else {
                throw .badInput(
                    "--warmup-shapes \(text): \(n) is not a padded length of --seq-len \(plan.lengths) --pad-to \(plan.padding); give some of \(Self.list(plan.buckets))"
                )
            }
            if !lengths.contains(n) { lengths.append(n) }
        }
        return .lengths(lengths.sorted())
    }

    /// The lengths warmed at every batch bucket; none for `none`, whose only warm shape is the
    /// one the model was loaded at (the largest batch at the longest length).
    public func lengths(_ plan: LengthPlan) -> [Int] {
        switch self {
        case .all: return plan.buckets
        case .none: return []
        case .lengths(let ls): return ls
        }
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .none: return "none"
        case .lengths(let ls): return ls.map(String.init).joined(separator: ",")
        }
    }

    static func list(_ xs: [Int]) -> String {
        xs.count <= 12 ? xs.map(String.init).joined(separator: ",") : "\(xs.prefix(6).map(String.init).joined(separator: ",")),…,\(xs.last!)"
    }
}
