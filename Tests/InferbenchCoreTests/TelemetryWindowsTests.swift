import Testing

@testable import InferbenchCore

@Suite struct TelemetryWindowsTests {
    @Test func interleavedChunksCountOnlyTheirOwnTime() throws {
        let timeline = RecordedGPU.timeline()
        // Two chunks of the busy phase, with an idle stretch (another variant's turn) between them.
        let windows = [(10.4, 10.5), (10.7, 10.8)]
        let joined = timeline.aggregate(windows: windows, samplesProcessed: 100)
        let a = timeline.aggregate(from: 10.4, to: 10.5, samplesProcessed: nil)
        let b = timeline.aggregate(from: 10.7, to: 10.8, samplesProcessed: nil)
        let energy = try #require(joined.energyJ)
        #expect(abs(energy - ((a.energyJ ?? 0) + (b.energyJ ?? 0))) < 1e-9)
        #expect(abs(energy - 62) < 1e-6, "counter: 1081.4-1049.4 + 1175.4-1145.4")
        #expect(abs((joined.energyJPerSample ?? 0) - 0.62) < 1e-6)
        let span = timeline.aggregate(from: 10.4, to: 10.8, samplesProcessed: 100)
        #expect((span.energyJ ?? 0) > energy, "the whole span includes the time between the chunks")
        #expect(joined.throttled)
        #expect(joined.samples == a.samples + b.samples)
        let one = timeline.aggregate(windows: [(10.4, 10.5)], samplesProcessed: 10)
        #expect(one == timeline.aggregate(from: 10.4, to: 10.5, samplesProcessed: 10))
    }
}
