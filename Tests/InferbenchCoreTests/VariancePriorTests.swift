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
        // Identical variances: nothing is left for d₀ to describe.
        #expect(VariancePrior.fit((0..<10).map { _ in (0.04, 30) })?.df == VariancePrior.mostDF)
    }

    /// A run of 30 cells measured in two processes each, the spread between processes growing
    /// with the noise inside them (quiet GPU-bound cells, noisy launch-bound ones): each cell's
    /// own t(1) interval is enormous, the moderated one is several times narrower and still
    /// covers the true median in ≥ 90% of cells over 10 seeded runs.
    @Test func moderatedIntervalsCoverAndAreNarrowerThanTOne() {
        var rng = SeededGenerator(seed: 21)
        var covered = 0
        var moderatedCells = 0
        var ownWidths: [Double] = []
        var moderatedWidths: [Double] = []
        for run in 0..<10 {
            let cells = (0..<30).map { _ -> Clustered in
                let chunkSigma = exp(log(0.005) + Double.random(in: 0..<1, using: &rng) * log(20))
                let processSigma = 1.5 * chunkSigma * exp(0.3 * rng.normal())
                return Clustered(
                    (0..<2).map { _ in
                        let offset = processSigma * rng.normal()
                        return (0..<10).map { _ in
                            let chunk = offset + chunkSigma * rng.normal()
                            return (0..<10).map { _ in exp(chunk + 0.2 * chunkSigma * rng.normal()) }
                        }
                    })
            }
            let own = cells.map { ClusterBootstrap.median($0, resamples: 200, seed: UInt64(run)) }
            for (k, prior) in IntervalModeration.priors(own).enumerated() {
                let e = prior.flatMap { own[k]!.moderated(by: $0) } ?? own[k]!
                if e.lower <= 1 && 1 <= e.upper { covered += 1 }
                guard e.moderated else { continue }
                moderatedCells += 1
                // Where the cell's own interval rests on its two processes alone: t(1) wide.
                guard own[k]!.degreesOfFreedom < 3 else { continue }
                ownWidths.append(own[k]!.relativeHalfWidth)
                moderatedWidths.append(e.relativeHalfWidth)
            }
        }
        #expect(Double(covered) >= 0.9 * 300, "covered \(covered) of 300")
        #expect(moderatedCells == 300, "moderated \(moderatedCells) cells")
        #expect(ownWidths.count >= 50, "\(ownWidths.count) cells rest on their two processes alone")
        #expect(
            Statistics.median(moderatedWidths) < Statistics.median(ownWidths) / 3, "\(Statistics.median(moderatedWidths)) vs \(Statistics.median(ownWidths))")
    }
}
