import Foundation
import Testing

@testable import InferbenchCore

/// Synthetic latency measured the way a cloud GPU produces it: each process has its own speed
/// (a lognormal offset), and consecutive iterations are correlated (AR(1) on the log scale).
/// The true median of the population of processes is `base`.
struct ClusteredLatency {
    var processes = 3
    var chunks = 8
    var chunkSize = 20
    var processSigma = 0.05
    var phi = 0.8
    var noiseSigma = 0.03
    var base = 4.0

    func draw(_ rng: inout SeededGenerator, scale: Double = 1, offsets: [Double]? = nil) -> Clustered {
        Clustered(
            (0..<processes).map { p in
                let offset = offsets?[p] ?? processSigma * rng.normal()
                var state = noiseSigma / (1 - phi * phi).squareRoot() * rng.normal()
                let innovation = noiseSigma
                return (0..<chunks).map { _ in
                    (0..<chunkSize).map { _ in
                        state = phi * state + innovation * rng.normal()
                        return base * scale * exp(offset + state)
                    }
                }
            })
    }
}

@Suite struct ClusterBootstrapTests {
    @Test func quickselectMedianMatchesSorting() {
        var rng = SeededGenerator(seed: 7)
        for n in [1, 2, 3, 10, 11, 500, 501] {
            let values = (0..<n).map { _ in Double(Int.random(in: 0..<50, using: &rng)) }
            #expect(Quickselect.median(values) == Statistics.median(values), "n = \(n)")
        }
    }

    @Test func clusterIntervalCoversWhereTheIterationIntervalDoesNot() {
        let model = ClusteredLatency()
        var rng = SeededGenerator(seed: 11)
        var clusterCovers = 0
        var iterationCovers = 0
        let trials = 200
        for t in 0..<trials {
            let data = model.draw(&rng)
            let estimate = ClusterBootstrap.median(data, resamples: 200, seed: UInt64(t))!
            if estimate.lower <= model.base && model.base <= estimate.upper { clusterCovers += 1 }
            let iteration = Statistics.quantileInterval(sorted: data.pooled.sorted(), quantile: 0.5)
            if iteration.lower <= model.base && model.base <= iteration.upper { iterationCovers += 1 }
        }
        #expect(Double(clusterCovers) >= 0.9 * Double(trials), "cluster bootstrap covered \(clusterCovers) of \(trials)")
        #expect(Double(iterationCovers) < 0.5 * Double(trials), "iteration interval covered \(iterationCovers) of \(trials)")
    }

    @Test func pairedRatioIntervalCoversTheTrueRatio() {
        // Both variants run in the same processes' rounds: a slow process or a slow stretch of
        // time hits both (shared offsets), which the paired bootstrap cancels.
        let model = ClusteredLatency()
        var rng = SeededGenerator(seed: 12)
        var covers = 0
        var narrower = 0
        let trials = 200
        let trueRatio = 1.25
        for t in 0..<trials {
            let offsets = (0..<model.processes).map { _ in model.processSigma * rng.normal() }
            let slow = model.draw(&rng, scale: trueRatio, offsets: offsets)
            let fast = model.draw(&rng, offsets: offsets)
            let paired = ClusterBootstrap.ratio(slow, over: fast, paired: true, resamples: 200, seed: UInt64(t))!
            let unpaired = ClusterBootstrap.ratio(slow, over: fast, paired: false, resamples: 200, seed: UInt64(t))!
            if paired.lower <= trueRatio && trueRatio <= paired.upper { covers += 1 }
            if paired.upper - paired.lower < unpaired.upper - unpaired.lower { narrower += 1 }
        }
        #expect(Double(covers) >= 0.9 * Double(trials), "paired ratio covered \(covers) of \(trials)")
        #expect(Double(narrower) >= 0.9 * Double(trials), "paired narrower than unpaired in \(narrower) of \(trials)")
    }

    @Test func aSlowProcessWidensTheInterval() {
        var rng = SeededGenerator(seed: 3)
        let model = ClusteredLatency(processSigma: 0)
        let agreeing = model.draw(&rng, offsets: [0, 0, 0])
        let oneSlow = model.draw(&rng, offsets: [0, log(2), 0])
        let a = ClusterBootstrap.median(agreeing)!
        let b = ClusterBootstrap.median(oneSlow)!
        #expect(a.relativeHalfWidth < 0.03)
        #expect(b.upper > model.base * 1.5, "the interval reaches toward the slow process: \(b)")
    }

    @Test func oneChunkHasADegenerateInterval() {
        let data = Clustered([[[1, 2, 3]]])
        let e = ClusterBootstrap.median(data)!
        #expect(e.value == 2 && e.lower == 2 && e.upper == 2)
        #expect(ClusterBootstrap.median(Clustered([])) == nil)
    }
}
