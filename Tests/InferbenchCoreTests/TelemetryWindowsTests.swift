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

@Suite struct TimelineChartTests {
    @Test func chunksAreDrawnOverTheMachineBeneath() throws {
        var cell = CellResult(
            spec: CellSpec(model: ModelSpec(name: "mlp"), environment: "default", variant: Variant(compile: .eager, precision: .fp32, batchSize: 1)),
            status: .ok)
        cell.samplesNS = [1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000, 6_000_000]
        cell.latencyMS = LatencySamples(cell.samplesNS!).summary()
        cell.measurement = MeasurementInfo(
            clock: "perf_counter", warmupIterations: 1, warmupStable: true, stopReason: "fixed_iterations", measureSeconds: 0.6,
            chunkWindows: [[10.4, 10.5], [10.6, 10.7]], chunkSizes: [2, 4])
        let chunks = TimelineChart.chunks(cell)
        #expect(chunks.count == 2)
        #expect(chunks[0].p50 == 1.5 && chunks[0].max == 2)
        #expect(chunks[1].p50 == 4.5 && chunks[1].max == 6)
        var input = ChartInput(model: "mlp", cells: [cell], comparisons: [:], text: ReportText(.en), multiEnvironment: false)
        input.telemetry = RecordedGPU.timeline()
        let html = try #require(TimelineChart.render(input))
        #expect(html.contains("chart-timeline") && html.contains("GPU SM utilization"))
        #expect(html.components(separatedBy: "<svg").count == html.components(separatedBy: "</svg>").count)
        // Sizes that do not add up to the samples are not drawn rather than drawn wrong.
        cell.measurement?.chunkSizes = [2, 3]
        #expect(TimelineChart.chunks(cell).isEmpty)
    }
}
