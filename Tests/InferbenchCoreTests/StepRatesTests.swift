import Foundation
import Testing

@testable import InferbenchCore

/// it/s and s/image of models that report denoising steps per call (sd15), in every renderer.
@Suite struct StepRatesTests {
    /// Two sd-tiny cells (20 steps per call, p50 500 ms at batch 1 and 800 ms at batch 2) and
    /// an mlp cell, which has no steps.
    static func results() -> RunResults {
        var cells = [
            ReportFixture.cell("sd-tiny:steps=20", .eager, batch: 1, p50: 500, half: 5, throughput: 2),
            ReportFixture.cell("sd-tiny:steps=20", .eager, batch: 2, p50: 800, half: 8, throughput: 2.5),
            ReportFixture.cell("mlp", .eager, batch: 1, p50: 1, half: 0.01, throughput: 1000),
        ]
        for i in 0..<2 {
            cells[i].stepsPerCall = 20
            cells[i].fillStepRates()
        }
        cells[2].fillStepRates()
        var results = ReportFixture.results()
        results.cells = cells
        results.comparisons = []
        return results
    }

    @Test func ratesComeFromTheMedian() throws {
        let cells = Self.results().cells
        #expect(cells[0].stepsPerS == 40 && cells[0].secondsPerImage == 0.5)
        #expect(cells[1].stepsPerS == 25 && cells[1].secondsPerImage == 0.4)
        #expect(cells[2].stepsPerS == nil && cells[2].secondsPerImage == nil)
        let json = try JSONSerialization.jsonObject(with: RunResults.encoder().encode(Self.results())) as? [String: Any]
        let first = try #require((json?["cells"] as? [[String: Any]])?.first)
        #expect(first["steps_per_call"] as? Int == 20 && first["steps_per_s"] as? Double == 40)
        #expect(first["seconds_per_image"] as? Double == 0.5)
    }

    @Test func terminalAddsItPerSecondColumnsOnlyWhenAModelHasSteps() {
        // A batch sweep prints a pivot of p50s; the rates are columns of the full table.
        let text = TerminalReport.render(Self.results(), layout: TerminalLayout(wide: true))
        let lines = text.components(separatedBy: "\n")
        let header = try! #require(lines.first { $0.hasPrefix("model") })
        #expect(header.contains("samples/s  it/s  s/image  "))
        let row = try! #require(lines.first { $0.contains("eager/fp32/bs2") })
        #expect(row.contains(" 25.0 ") && row.contains(" 0.4 "))
        #expect(text.contains("it/s is denoising steps per call / p50"))
        #expect(!TerminalReport.render(ReportFixture.results()).contains("it/s"))
    }

    @Test func markdownAndCSVShowTheRates() {
        let md = MarkdownReport.render(Self.results())
        #expect(md.contains("| variant | batch | p50 ms (95% CI) | p99 ms | samples/s | it/s | s/image | speedup vs eager |"))
        #expect(md.contains("| eager/fp32 | 1 | 500 ±1.0% | 600 | 2.00 | 40.0 | 0.5 | baseline |"))
        // The mlp table has no steps, so no such columns.
        #expect(md.contains("| variant | batch | p50 ms (95% CI) | p99 ms | samples/s | speedup vs eager |"))
        #expect(MarkdownReport.render(Self.results(), language: .zh).contains("| it/s | 秒/图 |"))
        let csv = CSVReport.cells(Self.results()).components(separatedBy: "\r\n")
        let columns = csv[0].components(separatedBy: ",")
        let i = try! #require(columns.firstIndex(of: "steps_per_call"))
        #expect(Array(columns[i...(i + 2)]) == ["steps_per_call", "steps_per_s", "seconds_per_image"])
        #expect(Array(csv[1].components(separatedBy: ",")[i...(i + 2)]) == ["20", "40", "0.5"])
        #expect(Array(csv[3].components(separatedBy: ",")[i...(i + 2)]) == ["", "", ""])
    }
}
