import Foundation
import Testing

@testable import InferbenchCore

@Suite struct VariancePriorTests {
    @Test func specialFunctionsMatchKnownValues() {
        let gamma = 0.5772156649015329
        #expect(abs(Special.digamma(1) + gamma) < 1e-10)
        #expect(abs(Special.digamma(0.5) - (-gamma - 2 * log(2))) < 1e-10)
        #expect(abs(Special.trigamma(1) - .pi * .pi / 6) < 1e-9)
        #expect(abs(Special.trigamma(0.5) - .pi * .pi / 2) < 1e-9)
        for x in [0.3, 1.0, 3.7, 40.0] {
            #expect(abs(Special.inverseTrigamma(Special.trigamma(x)) - x) < 1e-6 * x, "x = \(x)")
            let h = 1e-5
            let numeric = (Special.trigamma(x + h) - Special.trigamma(x - h)) / (2 * h)
            #expect(abs(Special.polygamma2(x) - numeric) < 1e-4 * abs(numeric), "ψ″(\(x))")
        }
    }

    /// Variances drawn from a scaled-inverse-χ² prior, each seen through one degree of freedom
    /// (two processes): the fit recovers the prior.
    @Test func theFitRecoversAKnownPrior() {
        var rng = SeededGenerator(seed: 5)
        func chiSquare(_ df: Int) -> Double {
            (0..<df).reduce(0) { s, _ in
                let z = rng.normal(); return s + z * z
            }
        }
        let (s0, d0) = (0.01, 4)
        let estimates = (0..<3000).map { _ -> (variance: Double, df: Double) in
            let truth = s0 * Double(d0) / chiSquare(d0)
            return (truth * chiSquare(1), 1)
        }
        let prior = VariancePrior.fit(estimates)!
        #expect(abs(prior.variance / s0 - 1) < 0.25, "s₀² \(prior.variance)")
        #expect(prior.df > 2.5 && prior.df < 7, "d₀ \(prior.df)")
        #expect(VariancePrior.fit([(0.1, 1), (0.2, 1)]) == nil, "two estimates cannot say how alike they are")
        // Identical variances: nothing is left for d₀ to describe but how well ten estimates of
        // 30 df pin the typical variance down: about 290 df, not more.
        let alike = VariancePrior.fit((0..<10).map { _ in (0.04, 30) })!
        #expect(abs(alike.df - 2 * Special.inverseTrigamma(Special.trigamma(15) / 10)) < 1e-6, "d₀ \(alike.df)")
        #expect(alike.df > 200 && alike.df < 400)
    }

    /// A prior fitted from 15 cells of 2 processes each is known only roughly, however alike the
    /// cells look: its df stays near what 15 one-df estimates can say, and a trend line never
    /// predicts a variance above the largest the cells showed.
    @Test func aPriorFromFewCellsIsOnlyAsSureAsTheyAre() {
        var rng = SeededGenerator(seed: 8)
        let estimates = (0..<15).map { k -> (variance: Double, df: Double, covariate: Double) in
            let z = rng.normal()
            return (0.01 * exp(0.5 * Double(k) / 15) * z * z, 1, log(1e-4) + Double(k) * 0.8)
        }
        let priors = VariancePrior.fitTrend(estimates).map { $0! }
        let largest = estimates.map(\.variance).max()!
        for prior in priors {
            #expect(prior.df < 15, "d₀ \(prior.df) from 15 one-df estimates")
            #expect(prior.variance <= 4 * largest, "s₀² \(prior.variance) vs the largest seen \(largest)")
        }
        // The ends of the line are known less well than its middle.
        #expect(priors[0].df < priors[7].df && priors[14].df < priors[7].df)
    }

    /// The H200 bert-base grid (`docs/examples/replication-h200/grid-bert-results.json`, 15 cells
    /// in 2 processes), re-moderated. The binary that ran it trusted the trend as exact (d₀ =
    /// 1,000) and gave eager/fp32/bs4 — processes 5.04 and 9.03 ms, chunks swinging 2× inside each
    /// — an interval of 0.72–94.2 ms (11× each way). At the end of a line through 15 one-df
    /// estimates the prior is worth about 1.5 df, so that cell stays wide (about 3.6× each way);
    /// every other cell is within ±100%.
    @Test func theH200GridIsModeratedWithinReason() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "docs/examples/replication-h200/grid-bert-results.json")
        var (results, _) = try RunResults.load(path: file.path)
        for i in results.cells.indices where results.cells[i].measurement?.intervalMethod == .moderatedClusterBootstrap {
            results.cells[i].measurement?.intervalMethod = IntervalMethod.clusterBootstrap
        }
        IntervalModeration.moderateCells(&results.cells, rule: StoppingRule())
        let moderated = results.cells.filter { $0.measurement?.intervalMethod == .moderatedClusterBootstrap }
        #expect(moderated.count == 15)
        var wide: [String] = []
        for cell in moderated {
            let p50 = cell.latencyMS!.p50, ci = cell.latencyMS!.ci95.p50
            let spread = max(ci.upper / p50, p50 / ci.lower)
            #expect(spread < 4, "\(cell.id): \(p50) [\(ci.lower)–\(ci.upper)]")
            if spread >= 2 { wide.append(cell.id) }
        }
        #expect(wide == ["bert-base:seq=128|default|eager/fp32/bs4"], "wider than ±100%: \(wide)")
    }
}
