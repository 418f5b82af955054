import Foundation
import Testing

@testable import InferbenchCore

/// `--batch-buckets`: the default for each `--max-batch`, padding, the preferred sizes, and
/// every way a list is refused (each with the fix in its one line).
@Suite struct BatchBucketsTests {
    @Test func theDefaultIsOneAndMultiplesOfEightOrPowersOfTwoBelowEight() {
        #expect(BatchBuckets.defaults(maxBatch: 32).sizes == [1, 8, 16, 24, 32])
        #expect(BatchBuckets.defaults(maxBatch: 20).sizes == [1, 8, 16, 20])
        #expect(BatchBuckets.defaults(maxBatch: 8).sizes == [1, 8])
        #expect(BatchBuckets.defaults(maxBatch: 6).sizes == [1, 2, 4, 6])
        #expect(BatchBuckets.defaults(maxBatch: 4).sizes == [1, 2, 4])
        #expect(BatchBuckets.defaults(maxBatch: 1).sizes == [1])
    }

    @Test func aBatchIsPaddedToTheSmallestBucketThatHoldsIt() throws {
        let buckets = try BatchBuckets(parsing: "1, 8,16,24,32", maxBatch: 32)
        #expect([1, 2, 8, 9, 16, 17, 25, 32].map(buckets.padded) == [1, 8, 8, 16, 16, 24, 32, 32])
        #expect(buckets.description == "1,8,16,24,32")
    }

    /// A bucket of one is a shape, not a reason to send; with --max-batch 1 it is both.
    @Test func theFullestBucketSkipsOneUnlessItIsTheLargest() throws {
        let buckets = BatchBuckets.defaults(maxBatch: 32)
        #expect([1, 7, 8, 15, 16, 31, 32, 40].map(buckets.fullest) == [nil, nil, 8, 8, 16, 24, 32, 32])
        #expect(BatchBuckets.defaults(maxBatch: 1).fullest(1) == 1)
        #expect(try BatchBuckets([4, 8], maxBatch: 8).fullest(5) == 4)
    }

    @Test(arguments: [
        ("8,4", 8, "--batch-buckets 8,4: give each size once, in increasing order, e.g. 4,8"),
        ("1,8,8", 8, "--batch-buckets 1,8,8: give each size once, in increasing order, e.g. 1,8"),
        ("0,8", 8, "--batch-buckets 0,8: 0 is below 1; give sizes from 1 to --max-batch 8"),
        ("1,8,16", 8, "--batch-buckets 1,8,16: 16 is above --max-batch 8; drop it, or raise --max-batch to 16"),
        ("1,8", 32, "--batch-buckets 1,8: the largest bucket must be --max-batch 32; end the list with 32, or lower --max-batch to 8"),
        ("1,8.5", 8, "--batch-buckets 1,8.5: give whole numbers separated by commas, e.g. 1,8"),
        ("1,,8", 8, "--batch-buckets 1,,8: give whole numbers separated by commas, e.g. 1,8"),
        ("", 8, "--batch-buckets : give whole numbers separated by commas, e.g. 1,8"),
    ])
    func aBadListIsRefusedWithItsFix(text: String, maxBatch: Int, message: String) {
        #expect {
            _ = try BatchBuckets(parsing: text, maxBatch: maxBatch)
        } throws: { error in
            guard let error = error as? InferbenchError, case .badInput(let line) = error else { return false }
            return line == message && error.exitStatus == .badInput
        }
    }
}
