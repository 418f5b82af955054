import Foundation
import Testing

@testable import InferbenchCore

/// One baseline per speedup, named. A resnet50 cell read 10.41× in the table (against eager
/// at its own precision, fp16) and 9.52× in the conclusion (against eager/fp32): the same
/// cell now reads the same figure against the same named baseline everywhere.
@Suite struct SpeedupBaselineTests {
    /// eager/fp16 slower than eager/fp32 at batch 1 (as launch-bound fp16 can be), so the two
    /// baselines give reduce-overhead/fp16 different speedups: 10.50× and 10.00×.
    func results() -> RunResults {
        var cells = [
            ReportFixture.cell("resnet50", .eager, batch: 1, p50: 10, half: 0.05, throughput: 100),
            ReportFixture.cell("resnet50", .eager, batch: 1, p50: 10.5, half: 0.05, throughput: 95, precision: .fp16),
            ReportFixture.cell("resnet50", .reduceOverhead, batch: 1, p50: 1, half: 0.005, throughput: 1000, precision: .fp16, compileS: 40),
        ]
        Derived.fillBreakeven(&cells)
        var results = ReportFixture.results()
        results.cells = cells
        results.comparisons = Derived.comparisons(cells)
        return results
    }

    @Test func theTableAndTheConclusionQuoteTheSameSpeedupAgainstTheSameBaseline() throws {
        let results = results()
        let figure = "10.50× [10.43–10.57]"
        // The table: the header names the baseline, the cell holds the figure.
        let table = ReportTables.summary(model: "resnet50", results, ReportText(.en))
        let column = try #require(table.headers.firstIndex(of: "speedup vs eager/fp16"))
        let row = try #require(table.rows.first { $0[0] == "reduce-overhead/fp16" })
        #expect(row[column] == figure)
        // The conclusion and the findings: the same figure, the same baseline.
        let words = FindingsText(Findings(results), ReportText(.en))
        #expect(words.conclusion().contains("reduce-overhead/fp16 is the fastest at every batch size measured (10.50× faster than eager/fp16)"))
        #expect(words.sections().flatMap(\.items).contains { $0.contains("\(figure) faster than eager/fp16") })
        // The terminal: its table and its verdict line.
        let terminal = TerminalReport.render(results)
        #expect(terminal.contains("× vs eager/fp16") && terminal.contains(figure))
        #expect(terminal.contains("resnet50 batch 1: reduce-overhead/fp16 ran \(figure) faster than eager/fp16"))
        #expect(!terminal.contains("10.00×"))
        // The chart: the same bar, its 1.0 line named.
        let chart = try #require(HTMLReport.render(results).range(of: "1.0 = eager/fp16"))
        #expect(!chart.isEmpty)
    }

    /// Where a model's speedups have several baselines, each figure names its own.
    @Test func severalBaselinesAreNamedInEachCell() throws {
        var results = results()
        results.cells.append(ReportFixture.cell("resnet50", .default, batch: 1, p50: 5, half: 0.05, throughput: 200, compileS: 30))
        results.comparisons = Derived.comparisons(results.cells)
        let table = ReportTables.summary(model: "resnet50", results, ReportText(.en))
        #expect(table.headers.contains("speedup vs eager"))
        // CSV: each row names the baseline of its speedup_vs_eager.
        let csv = CSVReport.cells(results).split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let column = try #require(CSVReport.cellColumns.firstIndex(of: "speedup_baseline"))
        #expect(csv.dropFirst().map { $0[column] } == ["", "", "eager/fp16", "eager/fp32"])
        #expect(table.rows.contains { $0[0] == "default/fp32" && $0.contains("2.00× [1.98–2.02] vs eager/fp32") })
        #expect(table.rows.contains { $0[0] == "reduce-overhead/fp16" && $0.contains("10.50× [10.43–10.57] vs eager/fp16") })
        let terminal = TerminalReport.render(results, layout: TerminalLayout(width: 160))
        #expect(terminal.contains("2.00× [1.98–2.02] vs eager/fp32"))
    }
}
