import Foundation

extension CellResult {
    /// it/s and s/image of an iterative model (one that reports `steps_per_call`), from the
    /// median latency: steps per second is what diffusers' progress bar shows, seconds per image
    /// is what a user waits per picture when a call makes `batch` of them. Nothing for other models.
    mutating func fillStepRates() {
        guard let steps = stepsPerCall, steps > 0, let p50 = latencyMS?.p50, p50 > 0 else { return }
        let seconds = p50 / 1000
        stepsPerS = Double(steps) / seconds
        secondsPerImage = seconds / Double(variant.batchSize)
    }
}

extension RunResults {
    /// Whether any cell reports denoising steps, so tables add their it/s and s/image columns.
    var hasStepRates: Bool { cells.contains { $0.stepsPerCall != nil } }
}

extension Format {
    /// Seconds per image: three significant digits (`2.41`, `0.0523`).
    public static func secondsPerImage(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.3g", value)
    }
}
