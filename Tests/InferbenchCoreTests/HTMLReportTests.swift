import Foundation
import Testing

@testable import InferbenchCore

@Suite struct HTMLReportTests {
    let results = ReportFixture.results()

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func pageIsSelfContainedAndBalanced() {
        let html = HTMLReport.render(results)
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.hasSuffix("</html>\n"))
        for tag in ["svg", "table", "section", "figure", "ul", "li", "tr", "main", "style"] {
            #expect(count("<\(tag)>", in: html) + count("<\(tag) ", in: html) == count("</\(tag)>", in: html), "unbalanced <\(tag)>")
        }
        // Nothing fetched: the only URL is the SVG namespace.
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespace.contains("http://") && !withoutNamespace.contains("https://"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("@import") && !html.contains("src="))
    }

    @Test func everyModelHasItsTableAndCharts() {
        let html = HTMLReport.render(results)
        #expect(count("<table class=\"summary\">", in: html) == 2)
        // resnet50: latency, throughput, speedup and spectrum. bert-base (one batch measured): speedup and spectrum.
        #expect(count("<figure class=\"chart chart-latency\">", in: html) == 1)
        #expect(count("<figure class=\"chart chart-throughput\">", in: html) == 1)
        #expect(count("<figure class=\"chart chart-speedup\">", in: html) == 2)
        #expect(count("<figure class=\"chart chart-spectrum\">", in: html) == 2)
        #expect(html.contains("<td class=\"num\">5,500</td>"))
        #expect(html.contains("<tr class=\"failed\"><td>default/fp32</td><td class=\"num\">8</td><td class=\"num\">FAILED (oom)</td>"))
        #expect(html.contains("p50 latency (ms)") && html.contains("throughput (samples/s)") && html.contains("1.0 = eager"))
        #expect(html.contains("<title>resnet50 bs1: 10 [9.9–10.1]</title>") || html.contains("eager/fp32 bs1: 10 [9.9–10.1]"))
    }

    @Test func aLargeGridDrawsOnePercentilePanelPerBatchSize() throws {
        // The guide's grid: 3 modes × 2 precisions × 5 batch sizes, 30 lines in one chart otherwise.
        var cells: [CellResult] = []
        for batch in [1, 4, 8, 16, 32] {
            for precision in [Precision.fp32, .fp16] {
                for (i, mode) in [CompileMode.eager, .default, .reduceOverhead].enumerated() {
                    cells.append(
                        ReportFixture.cell(
                            "resnet50", mode, batch: batch, p50: Double(batch) / Double(i + 1), half: 0.01, throughput: 100, precision: precision))
                }
            }
        }
        let input = ChartInput(model: "resnet50", cells: cells, comparisons: [:], text: ReportText(.en), multiEnvironment: false)
        let figure = try #require(SpectrumChart.render(input))
        #expect(figure.hasPrefix("<figure class=\"chart chart-spectrum wide\">"))
        for batch in [1, 4, 8, 16, 32] { #expect(count(">batch \(batch)</text>", in: figure) == 1, "panel for batch \(batch)") }
        #expect(count("<polyline", in: figure) == 30 && !figure.contains("stroke-dasharray"), "one solid line per cell")
        #expect(count("<li>", in: figure) == 6, "one legend entry per variant, no batch dashes")
        // A small grid stays one chart with dashes per batch size (2 batch sizes, 9 cells).
        let small = try #require(
            SpectrumChart.render(ChartInput(model: "resnet50", cells: Array(cells.prefix(9)), comparisons: [:], text: ReportText(.en), multiEnvironment: false))
        )
        #expect(small.hasPrefix("<figure class=\"chart chart-spectrum\">"))
    }

    @Test func sameContentAsMarkdown() {
        let html = HTMLReport.render(results)
        for text in [
            "resnet50, max-autotune/fp32 at batch 1 is SLOWER than eager/fp32: speedup 0.83× [0.82–0.84] (p50 12.0 ms vs 10.0 ms eager/fp32).",
            "For resnet50, default/fp32 is the fastest at every batch size measured (1.97–2.50× faster than eager/fp32).",
            "FAILED (oom): CUDA out of memory, tried to allocate 2.00 GiB",
            "NVIDIA A10 (24,576 MB, 150 W)",
        ] {
            #expect(html.contains(HTML.escape(text)), "missing: \(text)")
        }
    }

    @Test func allTextIsEscaped() {
        var evil = results
        for i in evil.cells.indices where evil.cells[i].model == "resnet50" { evil.cells[i].model = "res<script>alert('x')</script>&net" }
        evil.run.command = "inferbench run --model \"<img src=x>\""
        let html = HTMLReport.render(evil)
        #expect(!html.contains("<script>") && !html.contains("<img"))
        #expect(html.contains("res&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;net"))
        #expect(HTML.escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;")
    }

    @Test func chartSectionsAreAnExtensionPoint() {
        let marker = HTMLChartSection(id: "custom") { input in
            input.cells.contains { $0.measurement?.phaseStart != nil } ? "<figure class=\"chart chart-custom\">\(HTML.escape(input.model))</figure>" : nil
        }
        var withPhases = results
        withPhases.cells[0].measurement?.phaseStart = 1
        withPhases.cells[0].measurement?.phaseEnd = 3
        let html = HTMLReport.render(withPhases, charts: HTMLChartSection.standard + [marker])
        #expect(count("chart-custom", in: html) == 1)
        #expect(html.contains("<figure class=\"chart chart-custom\">resnet50</figure>"))
        #expect(!HTMLReport.render(results, charts: []).contains("<figure"))
    }

    @Test func chineseSetsTheLanguage() {
        let html = HTMLReport.render(results, language: .zh)
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"zh-CN\">"))
        #expect(html.contains("推理性能可行性报告") && html.contains("p50 延迟\u{FF08}毫秒\u{FF09}"))
    }

    @Test func axesHaveReadableTicks() {
        let linear = PlotAxis.linear(0, 420, from: 300, to: 0)
        #expect(linear.ticks() == [0, 100, 200, 300, 400, 500])
        let log = PlotAxis.logarithmic(0.8, 2.6, from: 0, to: 400)
        #expect(log.position(1) > log.position(0.8) && log.position(2) < 400)
        // Labels never crowd: ticks at least 44 px apart, on narrow and wide axes, over few and many decades.
        for (lo, hi, width) in [(0.72, 2.9, 300.0), (0.8, 2.6, 400), (0.01, 14, 400), (0.001, 1e6, 300), (0.9, 1.1, 500)] {
            let axis = PlotAxis.logarithmic(lo, hi, from: 100, to: 100 + width)
            let px = axis.ticks().map(axis.position)
            #expect(px.count >= 2 || hi / lo < 1.5, "too few ticks for \(lo)...\(hi)")
            #expect(zip(px, px.dropFirst()).allSatisfy { $1 - $0 >= 44 }, "crowded ticks for \(lo)...\(hi): \(axis.ticks())")
        }
        #expect(Format.tick(25_000) == "25k" && Format.tick(0.5) == "0.5" && Format.tick(2) == "2")
        // One unit per axis: 5k beside 10k, never 5000.
        #expect(Format.ticks([0, 5000, 10000, 15000]) == ["0", "5k", "10k", "15k"] && Format.ticks([0, 0.5, 1]) == ["0", "0.5", "1"])
    }

    @Test func readersGetVersionsAndChangesAsTheyKnowThem() {
        #expect(ReportTables.cudnnText("91900") == "9.19.0 (91900)" && ReportTables.cudnnText("8906") == "8.9.6 (8906)")
        #expect(ReportTables.cudnnText("n/a") == "n/a")
        let html = HTMLReport.render(results)
        #expect(html.contains("9.1.0 (90100)"))
        #expect(!html.contains("(+0%)") && !html.contains("(-0%)"))
        // No change reads as ±0 MB; a share under 0.1% is left out rather than printed as +0%.
        var same = results
        for i in same.cells.indices where same.cells[i].model == "resnet50" && same.cells[i].variant.compile == .default {
            let batch = same.cells[i].variant.batchSize
            if batch == 8 { same.cells[i].memoryMB?.peakReserved = 480.02 }
            if batch == 32 { same.cells[i].memoryMB?.peakReserved = 1801 }
        }
        let md = MarkdownReport.render(same)
        #expect(md.contains("±0 MB at batch 8") && md.contains("+1.0 MB at batch 32"), "\(md)")
        #expect(!md.contains("+1.0 MB at batch 32 (+") && !md.contains("(+0%)") && !md.contains("(+0.0%)"))
    }
}
