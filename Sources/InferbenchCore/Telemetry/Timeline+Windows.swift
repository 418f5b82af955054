import Foundation

extension Timeline {
    /// Sums up several windows as one: the chunks of a cell that was measured in rounds
    /// interleaved with other variants, so that the other variants' chunks do not count.
    ///
    /// Means are weighted by window length, energy is added up, maxima are maxima. With short
    /// windows the utilization figures are approximate: NVML averages utilization over its own
    /// sample period (1/6 s to 1 s), which can reach into the neighbouring chunks.
    public func aggregate(windows: [(Double, Double)], samplesProcessed: Int?, gpus: [Int]? = nil) -> TelemetryAggregate {
        guard let first = windows.first else { return aggregate(from: 0, to: 0, samplesProcessed: samplesProcessed, gpus: gpus) }
        if windows.count == 1 { return aggregate(from: first.0, to: first.1, samplesProcessed: samplesProcessed, gpus: gpus) }
        let parts = windows.map { (aggregate(from: $0.0, to: $0.1, samplesProcessed: nil, gpus: gpus), max($0.1 - $0.0, 1e-9)) }
        func weighted(_ value: (TelemetryAggregate) -> Double?) -> Double? {
            let present = parts.compactMap { part in value(part.0).map { ($0, part.1) } }
            guard !present.isEmpty else { return nil }
            return present.reduce(0) { $0 + $1.0 * $1.1 } / present.reduce(0) { $0 + $1.1 }
        }
        func maximum(_ value: (TelemetryAggregate) -> Double?) -> Double? { parts.compactMap { value($0.0) }.max() }
        var out = parts[0].0
        out.gpuUtilMean = weighted(\.gpuUtilMean)
        out.gpuUtilMax = maximum(\.gpuUtilMax)
        out.memUtilMean = weighted(\.memUtilMean)
        out.powerWMean = weighted(\.powerWMean)
        let energies = parts.compactMap(\.0.energyJ)
        out.energyJ = energies.count == parts.count ? energies.reduce(0, +) : nil
        if let e = out.energyJ, let n = samplesProcessed, n > 0 { out.energyJPerSample = e / Double(n) } else { out.energyJPerSample = nil }
        out.smClockMHzMean = weighted(\.smClockMHzMean)
        out.memUsedMBMax = maximum(\.memUsedMBMax)
        out.tempCMax = maximum(\.tempCMax)
        out.throttled = parts.contains { $0.0.throttled }
        var reasons: [String] = []
        for part in parts { for r in part.0.throttleReasons where !reasons.contains(r) { reasons.append(r) } }
        out.throttleReasons = reasons
        out.throttledFraction = weighted(\.throttledFraction)
        out.hostCPUUtilMean = weighted(\.hostCPUUtilMean)
        out.workerCPUUtilMean = weighted(\.workerCPUUtilMean)
        out.workerRSSMBMax = maximum(\.workerRSSMBMax)
        out.samples = parts.reduce(0) { $0 + $1.0.samples }
        return out
    }
}
