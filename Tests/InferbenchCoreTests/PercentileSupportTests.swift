import Foundation
import Testing

@testable import InferbenchCore

/// Percentiles only where the samples support them: P99 from 40 samples is their maximum, so
/// tables show "—" with the reason and the chart leaves the point out.
@Suite struct PercentileSupportTests {
    func results(n: Int) -> RunResults {
        var results = ReportFixture.results()
        results.cells = [results.cells[0]]
        results.cells[0].latencyMS?.n = n
        return results
    }

    @Test func theSamplesNeededGrowWithThePercentile() {
        #expect(LatencySummary.minimumSamples(forPercentile: 99) == 100)
        #expect(LatencySummary.minimumSamples(forPercentile: 99.9) == 1000)
        #expect(LatencySummary.minimumSamples(forPercentile: 90) == 10)
    }

    @Test func aP99From40SamplesIsADashWithItsReason() {
        let few = TerminalReport.render(results(n: 40))
        #expect(few.contains("—") && few.contains("fewer than 100 samples"))
        let many = TerminalReport.render(results(n: 500))
        #expect(!many.contains("fewer than 100 samples"))
        let md = MarkdownReport.render(results(n: 40))
        #expect(md.contains("| — |") && md.contains("too few for a P99"))
        #expect(MarkdownReport.render(results(n: 40), language: .zh).contains("不足以给出 P99"))
    }

    /// CSV leaves an unsupported percentile empty, as the tables show "—": P99 of 40 samples
    /// is blank, P95 of 40 (20 needed) is written; P99.9 needs 1,000.
    @Test func theCSVLeavesAnUnsupportedPercentileEmpty() {
        func row(_ n: Int) -> [String: String] {
            let lines = CSVReport.cells(results(n: n)).split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            return Dictionary(uniqueKeysWithValues: zip(CSVReport.cellColumns, lines[1].map(String.init)))
        }
        let few = row(40), many = row(500)
        #expect(few["p99_ms"] == "" && few["p999_ms"] == "")
        #expect(few["p95_ms"]?.hasPrefix("11") == true && few["max_ms"] == "16")
        #expect(many["p99_ms"]?.hasPrefix("12") == true && many["p999_ms"] == "")
        #expect(row(1000)["p999_ms"] == "15")
        #expect(LatencySummary.supports(percentile: 99.9, samples: 999) == false)
        #expect(LatencySummary.supports(percentile: 99.9, samples: 1000))
    }

    /// The terminal's table and the HTML table show the same "—" with the same reason.
    @Test func theHTMLTableShowsTheSameDash() {
        let html = HTMLReport.render(results(n: 40))
        #expect(html.contains(">—<") && html.contains("too few for a P99"))
        #expect(!HTMLReport.render(results(n: 500)).contains("too few for a P99"))
    }

    @Test func theSpectrumChartDrawsOnlySupportedPercentiles() {
        let cell = results(n: 500).cells[0]
        #expect(SpectrumChart.points(cell.latencyMS!).map(\.name) == ["p50", "p90", "p95", "p99"])
        var few = cell.latencyMS!
        few.n = 40
        #expect(SpectrumChart.points(few).map(\.name) == ["p50", "p90", "p95"])
    }
}

@Suite struct TextTableWrapTests {
    @Test func aLongListWrapsAfterCommas() {
        #expect(TextTable.wrap("a=1,bb=2,ccc=3,dddd=4", width: 9) == ["a=1,bb=2,", "ccc=3,", "dddd=4"])
        #expect(TextTable.wrap("short", width: 9) == ["short"])
        #expect(TextTable.wrap("one two three", width: 7) == ["one two", "three"])
    }

    /// `inferbench models` listed a 400-column parameter list on one line: it fits 100 now.
    @Test func theModelsListingFitsOneHundredColumns() {
        let params = Dictionary(uniqueKeysWithValues: (0..<30).map { ("parameter\($0)", "value\($0)") })
        let zoo = [
            ZooEntry(name: "big", description: "a model with very many parameters to show the wrap", params: params, needs: ["torch", "transformers"]),
            ZooEntry(name: "mlp", description: "Linear+ReLU layers", params: ["layers": "2"], needs: ["torch"]),
        ]
        let text = ModelsReport.render(zoo)
        let widest = text.split(separator: "\n").map(\.count).max() ?? 0
        #expect(widest <= 100, "widest line \(widest)")
        #expect(text.contains("parameter29=value29"))
    }
}

@Suite struct NoteWrapTests {
    @Test func longNotesWrapAtOneHundredColumnsWithAHangingIndent() {
        let note = "warning: resnet50 eager/fp16/bs1: " + Array(repeating: "the median's interval is wider than the target", count: 5).joined(separator: " ")
        let wrapped = TextTable.hanging(note)
        let lines = wrapped.split(separator: "\n")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.count <= 100 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    ") })
        #expect(wrapped.replacingOccurrences(of: "\n    ", with: " ") == note)
        #expect(TextTable.hanging("short") == "short")
    }
}
