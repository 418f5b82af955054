import Foundation
import Testing

@testable import InferbenchCore

@Suite struct MarkdownReportTests {
    let results = ReportFixture.results()

    func lines(_ text: String) -> [String] { text.components(separatedBy: "\n") }

    @Test func titleEnvironmentAndCommand() {
        let md = MarkdownReport.render(results)
        #expect(md.hasPrefix("# Inference feasibility report: resnet50, bert-base:seq=128\n"))
        #expect(md.contains("Run 20251124-160000-abc123, started 2025-11-24 16:00 UTC, complete. inferbench 0.1.0."))
        let env = lines(md)
        #expect(env.contains("|  | default |"))
        #expect(env.contains("| GPU | NVIDIA A10 (24,576 MB, 150 W) |"))
        #expect(env.contains("| driver | 550.54 |"))
        #expect(env.contains("| Python | 3.12.3 (/usr/bin/python3) |"))
        #expect(env.contains("| PyTorch | 2.6.0 |"))
        #expect(env.contains("| CPU | AMD EPYC 7543; 16 cores, 128 GB memory |"))
        #expect(md.contains("Command: `inferbench run --model resnet50,bert-base:seq=128 --compile eager,default,max-autotune --batch 1,8,32`"))
    }

    @Test func summaryTableLinesAreExact() {
        let md = lines(MarkdownReport.render(results))
        let start = try! #require(md.firstIndex(of: "## Results: resnet50"))
        let expected = [
            "| variant | batch | p50 ms (95% CI) | p99 ms | samples/s | speedup vs eager/fp32 | compile | break-even (calls) | peak GPU MB | accuracy (max abs err vs eager fp32) |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
            "| eager/fp32 | 1 | 10.0 ±1.0% | 12.0 | 99.0 | baseline | - | - | 100 | ok (0) |",
            "| eager/fp32 | 8 | 40.0 ±1.0% | 48.0 | 200.0 | baseline | - | - | 400 | ok (0) |",
            "| eager/fp32 | 32 | 150 ±1.0% | 180 | 213.0 | baseline | - | - | 1,500 | ok (0) |",
            "| default/fp32 | 1 | 4.00 ±1.0% | 4.80 | 250.0 | 2.50× [2.46–2.54] | 33 s | 5,500 | 130 | ok (2e-06) |",
            "| default/fp32 | 8 | 20.0 ±1.0% | 24.0 | 400.0 | 2.00× [1.97–2.03] | 31 s | 1,550 | 420 | ok (2e-06) |",
            "| default/fp32 | 32 | 76.0 ±1.1% | 91.2 | 420.0 | 1.97× [1.95–2.00] | 30 s | 406 | 1,600 | ok (2e-06) |",
            "| max-autotune/fp32 | 1 | 12.0 ±0.8% | 14.4 | 83.0 | 0.83× [0.82–0.84] slower | 90 s | never | 140 | ok (2e-06) |",
        ]
        #expect(Array(md[(start + 2)..<(start + 2 + expected.count)]) == expected)
    }

    @Test func failedCellsAreRowsAndWarnings() {
        let md = MarkdownReport.render(results)
        // bert-base has no GPU memory figures, only the worker's RSS.
        #expect(md.contains("| default/fp32 | 8 | FAILED (oom) | - | - | - | - | - | - | - |"))
        #expect(md.contains("| default/fp32 | 1 | 4.95 ±5.1% | 5.94 | 202.0 | no significant difference | 41 s | never | 2,048 | BEYOND tolerance (0.03) |"))
        // Warnings are grouped by kind, each naming the cells it affects.
        #expect(
            md.contains("- Failed or skipped (1 cell)\n  - bert-base:seq=128 default/fp32/bs8: FAILED (oom): CUDA out of memory, tried to allocate 2.00 GiB\n"))
        #expect(
            md.contains(
                "- Graph breaks (1 cell)\n  - bert-base:seq=128 default/fp32/bs1: 2 graph break(s) (generic_jump); code between graphs runs in Python. Try --fullgraph to find them.\n"
            ))
        #expect(md.contains("  - bert-base:seq=128 default/fp32/bs1: 1 recompile(s); figures may include compile time."))
        #expect(md.contains("  - bert-base:seq=128 default/fp32/bs1: outputs differ from eager fp32 beyond tolerance (max abs err 0.03, cosine 0.999100)."))
        #expect(md.contains("- Outliers (1 cell)\n  - bert-base:seq=128 default/fp32/bs1: 3 of 500 iterations are statistical outliers; quiet the machine\n"))
    }

    @Test func findingsAndConclusionAreInPlainWords() {
        let md = MarkdownReport.render(results)
        #expect(md.contains("- resnet50 at batch 1: default/fp32 is fastest, p50 4.00 ms, 2.50× [2.46–2.54] faster than eager/fp32.\n"))
        #expect(
            md.contains(
                "- bert-base:seq=128 at batch 1: no variant is significantly faster than eager/fp32 (best: default/fp32, 1.01× [0.95–1.08], p50 4.95 ms).\n"))
        #expect(
            md.contains("- resnet50, max-autotune/fp32 at batch 1 is SLOWER than eager/fp32: speedup 0.83× [0.82–0.84] (p50 12.0 ms vs 10.0 ms eager/fp32).\n"))
        #expect(
            md.contains(
                "- resnet50, default/fp32: peak reserved GPU memory (CUDA-graph pools included) over eager: +36 MB (+30%) at batch 1 (120 → 156 MB), +24 MB (+5%) at batch 8 (480 → 504 MB), +120 MB (+7%) at batch 32 (1,800 → 1,920 MB).\n"
            )
        )
        #expect(md.contains("For resnet50, default/fp32 is the fastest at every batch size measured (1.97–2.50× faster than eager/fp32)."))
        #expect(md.contains("Compiling it costs up to 33 s per configuration and pays back after at most 5,500 calls."))
        #expect(md.contains("For bert-base:seq=128, nothing is significantly faster than eager/fp32 at any batch size measured: keep eager/fp32."))
        #expect(md.contains("1 of 10 cells failed or were skipped (see Warnings)."))
        // Sections come in a reader's order: the answer first.
        let order = ["## Conclusion", "## Environment", "## Results: resnet50", "## Results: bert-base:seq=128", "## Findings", "## Warnings"]
        let positions = order.map { md.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
    }

    @Test func chineseHasTheSameNumbers() {
        let en = MarkdownReport.render(results, language: .en)
        let zh = MarkdownReport.render(results, language: .zh)
        #expect(zh.hasPrefix("# 推理性能可行性报告\u{FF1A}resnet50"))
        #expect(zh.contains("## 结论") && zh.contains("## 环境") && zh.contains("## 警告"))
        #expect(zh.contains("| eager/fp32 | 1 | 10.0 ±1.0% | 12.0 | 99.0 | 基线 | - | - | 100 | 通过\u{FF08}0\u{FF09} |"))
        #expect(zh.contains("比 eager/fp32 更慢\u{FF1A}加速比 0.83× [0.82–0.84]"))
        let numbers = { (text: String) in text.matches(of: /\d+(?:[.,]\d+)*×?/).map { String($0.output) } }
        #expect(Set(numbers(en)).isSuperset(of: ["2.50×", "5,500", "0.83×", "24,576"]))
        #expect(Set(numbers(zh)).isSuperset(of: ["2.50×", "5,500", "0.83×", "24,576"]))
    }

    @Test func markupInNamesStaysText() {
        var evil = results
        evil.run.command = "run --model a|b"
        evil.cells[9].error?.message = "line one\nline two | <b>bold</b>"
        let md = MarkdownReport.render(evil)
        #expect(md.contains("FAILED (oom): line one line two | &lt;b>bold&lt;/b>"))
        #expect(!md.contains("<b>"))
        #expect(MarkdownReport.cell("a|b") == "a\\|b")
    }

    @Test func anEmptyRunStillRenders() {
        let empty = RunResults(run: results.run)
        let md = MarkdownReport.render(empty)
        #expect(md.hasPrefix("# Inference feasibility report\n"))
        #expect(md.contains("## Conclusion\n\nNo measurement warnings were raised.\n"))
        #expect(md.hasSuffix("## Warnings\n\nNone: every cell finished without a warning.\n"))
        #expect(!md.contains("## Findings"))
    }
}
