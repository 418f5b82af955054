import Foundation
import Testing

@testable import InferbenchCore

/// `inferbench compare` of two load tests: capacity brackets and offline throughput, B vs A.
@Suite struct LoadComparisonTests {
    func results(capacity: Capacity?, offline: [Double]? = nil, dynamic: Bool? = nil) -> RunResults {
        var r = LoadFixture.results()
        r.load!.capacity = capacity
        r.load!.variant?.dynamic = dynamic
        r.load!.offline = offline.flatMap { OfflineThroughput(rounds: $0, roundSeconds: 1) }
        return r
    }

    @Test func capacityIsHigherOnlyWhereBPassedARateAFailedAt() throws {
        let a = results(capacity: Capacity(lowerQPS: 300, upperQPS: 400))
        let higher = LoadComparison(a: a, b: results(capacity: Capacity(lowerQPS: 400, upperQPS: 450)))
        let c = try #require(higher.capacity)
        #expect(c.verdict == .higher && c.lower == 1.0 && c.upper == 1.5)
        #expect(LoadComparison(a: a, b: results(capacity: Capacity(lowerQPS: 350, upperQPS: 420))).capacity?.verdict == .overlap)
        #expect(LoadComparison(a: a, b: results(capacity: Capacity(lowerQPS: 200, upperQPS: 300))).capacity?.verdict == .lower)
        // a side that never failed within its search: at least its lower bound, an open ratio
        let open = try #require(LoadComparison(a: a, b: results(capacity: Capacity(lowerQPS: 500, upperQPS: nil))).capacity)
        #expect(open.verdict == .higher && open.upper == nil && open.lower == 1.25)
    }

    @Test func theGateFailsOnlyBeyondItsPercent() {
        let a = results(capacity: Capacity(lowerQPS: 300, upperQPS: 400))
        let slightly = LoadComparison(a: a, b: results(capacity: Capacity(lowerQPS: 250, upperQPS: 290)))
        #expect(slightly.capacityRegression(beyond: 5) == nil, "290 is 3% below 300")
        #expect(slightly.capacityRegression(beyond: 2) != nil)
        let message = CompareReport.regressionMessage(slightly, percent: 2)
        #expect(
            message == "regression: capacity fell from 300.0–400.0 to 250.0–290.0 req/s (B failed below A's passing rate by more than --fail-on-regression 2%)")
    }

    @Test func offlineThroughputUsesItsIntervalsAndTheSetupDifferenceIsNamed() throws {
        let a = results(capacity: nil, offline: [480, 490, 500, 510, 520])
        let b = results(capacity: nil, offline: [980, 990, 1000, 1010, 1020], dynamic: true)
        let c = LoadComparison(a: a, b: b)
        let o = try #require(c.offline)
        #expect(o.verdict == .higher && abs(o.ratio - 2) < 0.01 && o.lower > 1.8 && o.upper < 2.2)
        #expect(c.capacity == nil && c.setupDifferences.contains { $0.hasPrefix("variant ") && $0.hasSuffix("/dynamic") })
        let text = CompareReport.render(c, a: .init(path: "a", results: a), b: .init(path: "b", results: b))
        #expect(text.contains("offline, samples/s") && text.contains("higher") && !text.contains("capacity"))
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 100 })
    }

    @Test func nothingInCommonSaysSo() {
        let none = LoadComparison(a: results(capacity: nil), b: results(capacity: nil))
        let text = CompareReport.render(none, a: .init(path: "a", results: results(capacity: nil)), b: .init(path: "b", results: results(capacity: nil)))
        #expect(text.contains("nothing to compare"))
    }
}
