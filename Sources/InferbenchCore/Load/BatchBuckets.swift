import Foundation

/// The batch sizes a worker runs (`--batch-buckets`): each is warmed before serving
/// (compiled variants compile one graph per bucket), and a batch is padded up to the smallest
/// bucket that holds it, so that a worker never meets a shape it has not seen.
///
/// The largest bucket is always `--max-batch`. Every bucket above one is also a preferred
/// size: a batcher with a free worker sends the largest bucket its queue fills at once,
/// without waiting out `--max-delay` (Triton's dynamic batcher). A bucket of one is a shape,
/// not a reason to send: were it preferred, a free worker would take requests one by one and
/// nothing would ever batch. With `--max-batch 1` it is both.
public struct BatchBuckets: Sendable, Equatable, CustomStringConvertible {
    /// Strictly increasing, from 1 or more up to the largest batch.
    public let sizes: [Int]

    /// Checks `sizes` against `maxBatch`; the error names the flag and the fix.
    public init(_ sizes: [Int], maxBatch: Int) throws(InferbenchError) {
        let given = sizes.map(String.init).joined(separator: ",")
        guard let last = sizes.last else { throw .badInput("--batch-buckets is empty: give sizes such as \(Self.defaults(maxBatch: maxBatch))") }
        if let low = sizes.first(where: { $0 < 1 }) {
            throw .badInput("--batch-buckets \(given): \(low) is below 1; give sizes from 1 to --max-batch \(maxBatch)")
        }
        if zip(sizes, sizes.dropFirst()).contains(where: { $0 >= $1 }) {
            let fixed = Array(Set(sizes)).sorted().map(String.init).joined(separator: ",")
            throw .badInput("--batch-buckets \(given): give each size once, in increasing order, e.g. \(fixed)")
        }
        if last > maxBatch {
            throw .badInput("--batch-buckets \(given): \(last) is above --max-batch \(maxBatch); drop it, or raise --max-batch to \(last)")
        }
        // Refused rather than extended: the buckets are the shapes compiled and warmed, and a
        // full queue sends --max-batch, so a list without it would warm one shape fewer than it runs.
        if last < maxBatch {
            throw .badInput(
                "--batch-buckets \(given): the largest bucket must be --max-batch \(maxBatch); end the list with \(maxBatch), or lower --max-batch to \(last)")
        }
        self.sizes = sizes
    }

    /// Parses a comma-separated list, e.g. `1,8,16,24,32`, and checks it against `maxBatch`.
    public init(parsing text: String, maxBatch: Int) throws(InferbenchError) {
        var sizes: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let size = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw .badInput("--batch-buckets \(text): give whole numbers separated by commas, e.g. \(Self.defaults(maxBatch: maxBatch))")
            }
            sizes.append(size)
        }
        try self.init(sizes, maxBatch: maxBatch)
    }

    private init(unchecked sizes: [Int]) { self.sizes = sizes }

    /// The buckets when none are given: 1 and the multiples of 8 up to `maxBatch` (tensor
    /// cores work on multiples of 8, and a bucket per 8 bounds the padding of a large batch
    /// to 7 samples), then `maxBatch` itself when it is not one. Below 8 the multiples of 8
    /// would pad everything to `maxBatch`: there the powers of two and `maxBatch`, which is
    /// what every `--max-batch` warmed before buckets.
    public static func defaults(maxBatch: Int) -> BatchBuckets {
        var sizes = [1]
        if maxBatch < 8 {
            var b = 2
            while b < maxBatch {
                sizes.append(b)
                b *= 2
            }
        } else {
            sizes += stride(from: 8, to: maxBatch, by: 8)
        }
        if maxBatch > 1 { sizes.append(maxBatch) }
        return BatchBuckets(unchecked: sizes)
    }

    /// The largest batch, `--max-batch`.
    public var largest: Int { sizes[sizes.count - 1] }

    /// The batch size a worker runs for `n` requests: the smallest bucket that holds them.
    public func padded(_ n: Int) -> Int { sizes.first { $0 >= n } ?? largest }

    /// The largest preferred bucket that `queued` requests fill, nil when they fill none:
    /// what a batcher with a free worker sends without waiting.
    public func fullest(_ queued: Int) -> Int? {
        sizes.last { $0 <= queued && ($0 > 1 || $0 == largest) }
    }

    public var description: String { sizes.map(String.init).joined(separator: ",") }
}
