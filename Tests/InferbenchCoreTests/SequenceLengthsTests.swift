import Foundation
import Testing

@testable import InferbenchCore

/// `--seq-len`, `--pad-to` and `--warmup-shapes`: parsing, bad input, draws and buckets.
@Suite struct SequenceLengthsTests {
    @Test func theFourFormsParseAndDescribeThemselves() throws {
        #expect(try SequenceLengths.parse("128").form == .constant(128))
        #expect(try SequenceLengths.parse("32:512").form == .uniform(32, 512))
        #expect(try SequenceLengths.parse("64:64").form == .constant(64))
        let lognormal = try SequenceLengths.parse("lognormal:median=128,sigma=0.6,max=512")
        #expect(lognormal.form == .lognormal(median: 128, sigma: 0.6, min: 1, max: 512))
        #expect(lognormal.description == "lognormal:median=128,sigma=0.6,max=512")
        #expect(try SequenceLengths.parseFile("# lengths\n10\n\n20\n10\n", name: "/tmp/l.txt").form == .empirical([10, 20, 10], source: "l.txt"))
    }

    @Test(arguments: [
        ("", "give N, LOW:HIGH"), ("abc", "give N, LOW:HIGH"), ("0:10", "from 1 to"), ("512:32", "is above"),
        ("lognormal:median=128,sigma=0.6", "needs median=, sigma= and max="), ("lognormal:median=128,sigma=0.6,max=64", "min ≤ median ≤ max"),
        ("lognormal:median=128,sigma=-1,max=512", "sigma from 0 to 5"), ("lognormal:mean=1,sigma=1,max=5", "not median=, sigma="),
        ("file:/nonexistent/lengths.txt", "cannot read the file"),
    ])
    func malformedDistributionsNameTheFlagAndTheFix(text: String, says: String) {
        #expect(throws: InferbenchError.self) { try SequenceLengths.parse(text) }
        do { _ = try SequenceLengths.parse(text) } catch {
            #expect(error.description.contains("--seq-len"))
            #expect(error.description.contains(says), "\(error.description)")
            #expect(error.exitStatus == .badInput)
        }
    }

    @Test func aLengthFileThatDoesNotParseNamesFileAndLine() {
        do {
            _ = try SequenceLengths.parseFile("12\n# ok\n7.5\n", name: "lengths.txt")
            Issue.record("a fractional length parsed")
        } catch {
            #expect(error.description.contains("--seq-len file:lengths.txt line 3: 7.5 is not a length"))
        }
        #expect(throws: InferbenchError.self) { try SequenceLengths.parseFile("# nothing\n\n", name: "empty.txt") }
    }

    /// Seeded draws repeat, stay in range, and a lognormal's median is its median (20,000 draws).
    @Test func drawsAreSeededInRangeAndDistributedAsAsked() throws {
        let lengths = try SequenceLengths.parse("lognormal:median=128,sigma=0.6,max=512")
        var a = lengths.sampler(seed: 7)
        var b = lengths.sampler(seed: 7)
        let draws = (0..<20_000).map { _ in a.next() }
        #expect(draws == (0..<20_000).map { _ in b.next() })
        #expect(draws.allSatisfy { (1...512).contains($0) })
        let median = draws.sorted()[10_000]
        #expect(abs(median - 128) <= 3, "median \(median)")
        // exp(0.6 × z) is above 512/128 = 4 for z > 2.31: 1.0% of draws are clamped to max.
        let clamped = Double(draws.filter { $0 == 512 }.count) / 20_000
        #expect(clamped > 0.005 && clamped < 0.02, "clamped \(clamped)")
        var uniform = try SequenceLengths.parse("32:40").sampler(seed: 1)
        #expect(Set((0..<2_000).map { _ in uniform.next() }) == Set(32...40))
    }

    @Test func paddingGivesBucketsCappedAtTheLongestLength() throws {
        let lengths = try SequenceLengths.parse("20:300")
        #expect(LengthPadding.multiple(64).buckets(for: lengths) == [64, 128, 192, 256, 300])
        #expect(LengthPadding.pow2.buckets(for: lengths) == [32, 64, 128, 256, 300])
        #expect(LengthPadding.none.buckets(for: try SequenceLengths.parse("3:6")) == [3, 4, 5, 6])
        #expect(LengthPadding.none.buckets(for: try SequenceLengths.parseFile("9\n4\n9\n", name: "f")) == [4, 9])
        let plan = LengthPlan(lengths: lengths, padding: .multiple(64))
        #expect([20, 64, 65, 257, 300].map(plan.padded) == [64, 64, 128, 300, 300])
        #expect(try LengthPadding.parse("pow2") == .pow2 && (try LengthPadding.parse("none")) == LengthPadding.none)
        #expect(throws: InferbenchError.self) { try LengthPadding.parse("sixty-four") }
    }

    @Test func warmupShapesNameLengthsThatAreBuckets() throws {
        let plan = LengthPlan(lengths: try SequenceLengths.parse("1:512"), padding: .multiple(128))
        #expect(try ShapeWarmup.parse("all", plan: plan).lengths(plan) == [128, 256, 384, 512])
        #expect(try ShapeWarmup.parse("none", plan: plan).lengths(plan) == [])
        #expect(try ShapeWarmup.parse("256,128", plan: plan) == .lengths([128, 256]))
        do {
            _ = try ShapeWarmup.parse("100", plan: plan)
            Issue.record("a length that is no bucket was accepted")
        } catch {
            #expect(error.description.contains("100 is not a padded length") && error.description.contains("128,256,384,512"))
        }
    }

    @Test func imageSizesAreAListEachRequestOneOfThem() throws {
        let sizes = try SequenceLengths.parseSizes("224, 256,320")
        #expect(sizes.description == "224,256,320" && sizes.support == [224, 256, 320] && sizes.range == 224...320)
        var draws = sizes.sampler(seed: 3)
        let seen = (0..<3000).map { _ in draws.next() }
        #expect(Set(seen) == [224, 256, 320])
        for size in [224, 256, 320] {
            let share = Double(seen.filter { $0 == size }.count) / 3000
            #expect(abs(share - 1.0 / 3) < 0.05)
        }
        #expect(LengthPlan(lengths: sizes, padding: .none).buckets == [224, 256, 320], "batched by equal size")
        #expect(try SequenceLengths.parseSizes("224").form == .constant(224))
        #expect(throws: InferbenchError.badInput("--image-size 224,x: give image sides in pixels, one or a list, e.g. --image-size 224,256,320")) {
            try SequenceLengths.parseSizes("224,x")
        }
        #expect(throws: InferbenchError.self) { try SequenceLengths.parseSizes("224,224") }
    }
}
