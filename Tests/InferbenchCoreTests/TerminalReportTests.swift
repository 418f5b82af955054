import Foundation
import Testing

@testable import InferbenchCore

/// The summary `run` prints: it fits the width, ends with the conclusion and the verdicts, and
/// keeps per-cell detail for `--verbose`. Snapshots live in Fixtures/terminal; run with
/// INFERBENCH_UPDATE_SNAPSHOTS=1 to write them again after a deliberate change.
@Suite struct TerminalReportTests {
    static let snapshots = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "Fixtures").appending(path: "terminal")

    func expectSnapshot(_ text: String, _ name: String) throws {
        let url = Self.snapshots.appending(path: name)
        if ProcessInfo.processInfo.environment["INFERBENCH_UPDATE_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: Self.snapshots, withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "terminal output differs from Fixtures/terminal/\(name)")
    }

    func expectFits(_ text: String, _ width: Int) {
        for line in text.split(separator: "\n") {
            #expect(line.count <= width, "\(line.count) columns: \(line)")
        }
    }

    @Test(arguments: [100, 160]) func aRunFitsTheWidthAndEndsWithItsVerdict(width: Int) throws {
        let text = TerminalReport.render(ReportFixture.results(), layout: TerminalLayout(width: width))
        expectFits(text, width)
        let words = FindingsText(Findings(ReportFixture.results()), ReportText(.en))
        // The conclusion is report.md's, word for word (wrapped).
        let flattened = text.replacingOccurrences(of: "\n    ", with: " ")
        #expect(flattened.contains("Conclusion: " + words.conclusion()))
        #expect(flattened.contains("resnet50 batch 1: default/fp32 ran 2.50× [2.46–2.54] faster than eager/fp32"))
        #expect(flattened.contains("resnet50 batch 1: max-autotune/fp32 ran 1.20× [1.18–1.22] slower than eager/fp32"))
        #expect(flattened.contains("bert-base:seq=128 batch 1: default/fp32 vs eager/fp32: no measurable difference"))
        #expect(text.hasSuffix("9 of 10 cells ok\n"))
        try expectSnapshot(text, "run-\(width).txt")
    }

    @Test(arguments: [100, 160]) func aLoadTestFitsTheWidthAndEndsWithItsConclusion(width: Int) throws {
        let results = LoadFixture.results()
        let text = TerminalReport.summary(results, layout: TerminalLayout(width: width))
        expectFits(text, width)
        let flattened = text.replacingOccurrences(of: "\n    ", with: " ")
        #expect(flattened.hasSuffix("Conclusion: " + LoadReportData.conclusion(results, ReportText(.en)) + "\n"))
        try expectSnapshot(text, "load-\(width).txt")
    }

    @Test func aBatchSweepIsAPivotOfVariantsByBatchSize() {
        // Runs of spaces as one: the test is of what each row holds, the snapshot of the layout.
        let text = TerminalReport.render(ReportFixture.results()).replacing(/\ +/, with: " ")
        #expect(text.contains("resnet50: p50 ms and × vs the variant in \"vs\"\nvariant vs bs1 bs8 bs32\n"))
        #expect(text.contains("\ndefault/fp32 eager/fp32 4.00 2.50× 20.0 2.00× 76.0 1.97×\n"))
        #expect(text.contains("\nmax-autotune/fp32 eager/fp32 12.0 0.83×\n"))
        #expect(text.contains("\ndefault/fp32 eager/fp32 4.95 n.s. OOM\n"))
        #expect(!text.contains("mean ms"))
    }

    @Test func perCellDetailWaitsForVerbose() {
        let results = ReportFixture.results()
        let short = TerminalReport.render(results)
        let long = TerminalReport.render(results, layout: TerminalLayout(verbose: true))
        #expect(!short.contains("cold start:") && !short.contains("accuracy:"))
        #expect(long.contains("cold start: resnet50 default/fp32/bs1: load 1.50 s, compile 33 s"))
        #expect(long.contains("accuracy: bert-base:seq=128 default/fp32/bs1: max abs err 0.03"))
        // Warnings and failures are shown either way.
        #expect(short.contains("warning: ") && short.contains("failed: bert-base:seq=128 default/fp32/bs8: oom"))
    }

    /// One batch size: a row per cell, the columns that matter least left out at 100 and named.
    @Test func aNarrowTerminalLosesColumnsAndSaysWhich() {
        var results = ReportFixture.results()
        results.cells = results.cells.filter { $0.variant.batchSize == 1 }
        let narrow = TerminalReport.render(results, layout: TerminalLayout(width: 100))
        expectFits(narrow, 100)
        #expect(narrow.contains("Left out to fit 100 columns: mean ms"))
        #expect(narrow.contains("× vs eager/fp32") && narrow.contains("2.50× [2.46–2.54]"))
        let wide = TerminalReport.render(results, layout: TerminalLayout(width: 100, wide: true))
        #expect(wide.contains("mean ms") && wide.contains("min ms") && !wide.contains("Left out"))
        #expect(TerminalReport.widest(wide) > 100)
    }

    /// `report --summary --lang zh`: Chinese two columns wide, every line within the width
    /// counted as a terminal draws it, the table's columns lined up, the verdicts in Chinese.
    @Test(arguments: [100, 160]) func aChineseRunSummaryFitsTheWidthInTerminalColumns(width: Int) throws {
        let text = TerminalReport.summary(ReportFixture.results(), layout: TerminalLayout(width: width, verbose: true), language: .zh)
        for line in text.split(separator: "\n") {
            #expect(line.displayWidth <= width, "\(line.displayWidth) columns: \(line)")
        }
        #expect(text.contains("结论：") && text.hasSuffix("10 个单元中 9 个成功\n"))
        #expect(text.contains("resnet50 批大小 1：default/fp32 比 eager/fp32 快 2.50× [2.46–2.54]"))
        // The pivot's rows (after its title and header) are as wide as its rule: columns line up.
        let pivot = text.components(separatedBy: "\n\n").first { $0.hasPrefix("resnet50：") }!.split(separator: "\n")
        #expect(pivot.count > 3 && pivot[1].displayWidth == pivot[2].displayWidth, "\(pivot.prefix(3))")
        if width == 100 {
            try expectSnapshot(TerminalReport.summary(ReportFixture.results(), layout: TerminalLayout(width: width), language: .zh), "run-100-zh.txt")
        }
    }

    /// One batch size in Chinese: a row per cell, columns left out by their Chinese headers.
    @Test func aNarrowChineseTableLosesColumnsByTerminalColumns() throws {
        var results = ReportFixture.results()
        results.cells = results.cells.filter { $0.variant.batchSize == 1 }
        let text = TerminalReport.render(results, layout: TerminalLayout(width: 100), language: .zh)
        #expect(text.split(separator: "\n").allSatisfy { $0.displayWidth <= 100 })
        #expect(text.contains("为适应 100 列宽而省略：平均 毫秒") && text.contains("相对 eager/fp32 加速比"))
        try expectSnapshot(text, "run-bs1-100-zh.txt")
    }

    /// A load test ends with its report.md conclusion too.
    @Test func aLoadTestEndsWithItsConclusion() {
        let results = LoadFixture.results()
        let text = TerminalReport.summary(results, layout: TerminalLayout(width: 100))
        let conclusion = "Conclusion: " + LoadReportData.conclusion(results, ReportText(.en))
        #expect(text.replacingOccurrences(of: "\n    ", with: " ").hasSuffix(conclusion + "\n"))
        let last = text.split(separator: "\n").drop { !$0.hasPrefix("Conclusion: ") }
        #expect(!last.isEmpty && last.allSatisfy { $0.count <= 100 })
        // Every line fits, the steps table by leaving columns out (and saying which); the
        // capacity is said once, in the conclusion.
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(text)")
        #expect(text.contains("Left out to fit 100 columns: "))
        #expect(text.components(separatedBy: "Capacity ").count - 1 == 1, "\(text)")
        let wide = TerminalReport.summary(results, layout: TerminalLayout(width: 100, wide: true))
        #expect(!wide.contains("Left out") && wide.contains(" ipc "))
    }

    @Test func aLongWarningWrapsAndALongWordIsCut() {
        let text = "warning: " + String(repeating: "word ", count: 40) + "/a/" + String(repeating: "x", count: 130)
        let lines = TextTable.hanging(text, width: 60).split(separator: "\n")
        #expect(lines.count > 3)
        #expect(lines.allSatisfy { $0.count <= 60 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    ") })
    }
}
