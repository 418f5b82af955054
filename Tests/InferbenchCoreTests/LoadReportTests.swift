import Foundation
import Testing

@testable import InferbenchCore

/// The load-test reports: the HTML page with its timeline, the Markdown report, and the
/// terminal table's bars over time.
@Suite struct LoadReportTests {
    let results = LoadFixture.results()

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func theSetupLineSaysHowManyBatchesEachWorkerHoldsWhenItIsMoreThanOne() throws {
        var info = try #require(results.load)
        let before = ReportText(.en).loadSetupLine(info)
        #expect(!before.contains("in flight"))
        info.inFlight = 1
        #expect(ReportText(.en).loadSetupLine(info) == before)
        info.inFlight = 3
        #expect(ReportText(.en).loadSetupLine(info).contains("requests queued, 3 batches in flight per worker; figures"))
        #expect(ReportText(.zh).loadSetupLine(info).contains("每个 worker 同时执行 3 个批"))
    }

    @Test func loadResultsGetTheLoadPage() {
        let html = HTMLReport.render(results)
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">") && html.hasSuffix("</html>\n"))
        for tag in ["svg", "table", "section", "figure", "ul", "li", "tr", "main"] {
            #expect(count("<\(tag)>", in: html) + count("<\(tag) ", in: html) == count("</\(tag)>", in: html), "unbalanced <\(tag)>")
        }
        #expect(html.contains("<h1>Load test report: resnet50</h1>"))
        #expect(
            html.contains(
                "Capacity 300.0–400.0 requests/s at P99 ≤ 15 ms (conservative, 99% confidence): 300.0/s passed in every run, 400.0/s failed (3 step(s) run)."
            ))
        #expect(html.contains("499.8 samples/s (95% interval 480.5–519.8); batching efficiency (capacity ÷ offline) 60% (58–83%)."))
        #expect(html.contains("<th>p99 bound ms</th><th>over SLA</th><th>goodput/s</th>") || html.contains(">p99 bound ms</th>"))
        #expect(html.contains("resnet50, default/fp16, 1 worker(s) behind a dynamic batcher: batches of up to 8"))
        // Step 2 failed the SLA: its row is marked, its warning listed.
        #expect(html.contains("<tr class=\"failed\"><td class=\"num\">2</td><td>poisson 400.0 qps</td>"))
        #expect(html.contains("<strong>#2 poisson 400.0 qps</strong>") && html.contains("24 requests were rejected"))
        #expect(count("<figure class=\"chart chart-load-timeline\">", in: html) == 1)
        #expect(!html.contains("<script") && !html.contains("src="))
    }

    @Test func timelineMarksStepsSLAAndTheMachine() throws {
        let html = try #require(LoadTimelineChart.render(results, ReportText(.en)))
        // One band per step in each of the three panels, green for a pass, red for a fail.
        #expect(count("fill=\"#f0fdf4\"", in: html) == 6 && count("fill=\"#fef2f2\"", in: html) == 3)
        #expect(html.contains(">1 · 200.0/s ✓</text>") && html.contains(">2 · 400.0/s ✗</text>") && html.contains(">3 · 300.0/s ✓</text>"))
        // The SLA line, a log latency axis (5 ms to 270 ms), drops marked, GPU utilization and power beneath.
        #expect(html.contains("P99 SLA (15 ms)") && html.contains("stroke=\"#b91c1c\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\""))
        #expect(html.contains("2, 2–3 s: P99 210 ms") || html.contains("#2, 8–9 s: P99 210 ms"))
        #expect(html.contains("window with dropped or failed requests") && html.contains("12 dropped/errors"))
        #expect(html.contains("GPU SM utilization %") && html.contains("GPU power, % of limit"))
        // Time runs from the first step's start (100 s) to the last one's end (116 s), not to a rounder 20.
        #expect(html.contains("\"middle\" class=\"tick\">15</text>") && !html.contains("\"middle\" class=\"tick\">20</text>"))
    }

    @Test func timelineNeedsWindowsItCanPlace() {
        var old = results
        // Results written before windows carried start/end: placed from the step's phase_start.
        for i in old.loadTests.indices {
            for k in old.loadTests[i].windows.indices {
                old.loadTests[i].windows[k].start = nil
                old.loadTests[i].windows[k].end = nil
            }
        }
        let placed = LoadTimelineChart.bands(old.loadTests)
        #expect(placed.map(\.start) == [100, 106, 112] && placed[2].points.last?.end == 116)
        for i in old.loadTests.indices { old.loadTests[i].phaseStart = nil }
        #expect(LoadTimelineChart.render(old, ReportText(.en)) == nil)
        var single = results
        single.loadTests = [results.loadTests[0]]
        single.loadTests[0].windows = [results.loadTests[0].windows[0]]
        #expect(LoadTimelineChart.render(single, ReportText(.en)) == nil)
    }

    @Test func anEarlyStopThatClaimsItsPlannedLengthIsCutAtTheNextStep() {
        var old = results
        // Written before early stops recorded their real length: step 1 claims 100–106 s, but step 2 began at 101 s.
        old.loadTests[1].phaseStart = 101
        for k in old.loadTests[1].windows.indices {
            old.loadTests[1].windows[k].start = nil
            old.loadTests[1].windows[k].end = nil
        }
        var bands = LoadTimelineChart.bands(old.loadTests)
        #expect(bands[0].end == 101 && bands[0].points.allSatisfy { $0.end <= 101 })
        // Only the window that began before the cut is kept: later ones would pile up at 101 s.
        #expect(bands[0].points.count == 1 && bands[0].points.allSatisfy { $0.start < 101 })
        bands = LoadTimelineChart.bands(results.loadTests)
        #expect(zip(bands, bands.dropFirst()).allSatisfy { $0.end <= $1.start })
    }

    @Test func aRampDrawsItsTargetAndASliverOfDrainIsLeftOut() throws {
        var ramp = results
        ramp.load?.slaP99MS = nil
        ramp.loadTests = [results.loadTests[0]]
        ramp.loadTests[0].slaMet = nil
        ramp.loadTests[0].scenario = "ramp 0.0→400.0 qps"
        ramp.loadTests[0].rampQPS = [0, 400]
        ramp.loadTests[0].windows.append(.init(t: 4, seconds: 0.01, qps: 100, p50: 5, p99: 6, errors: 0, offeredQPS: 0, start: 104, end: 104.01))
        #expect(LoadTimelineChart.bands(ramp.loadTests)[0].points.count == 4)
        let html = try #require(LoadTimelineChart.render(ramp, ReportText(.en)))
        #expect(html.contains(">1 · 0→400/s</text>") && html.contains("ramp target") && html.contains("stroke-dasharray=\"2 3\""))
        #expect(!html.contains("SLA"))
    }

    @Test func withoutSamplesTheWindowsFiguresAreDrawn() throws {
        var bare = results
        bare.telemetry = nil
        let html = try #require(LoadTimelineChart.render(bare, ReportText(.en)))
        #expect(html.contains("GPU SM utilization %") && !html.contains("GPU power"))
        for i in bare.loadTests.indices {
            for k in bare.loadTests[i].windows.indices {
                bare.loadTests[i].windows[k].gpuUtil = nil
                bare.loadTests[i].windows[k].hostCPUUtil = 40
            }
        }
        #expect(try #require(LoadTimelineChart.render(bare, ReportText(.en))).contains("host CPU utilization %"))
    }

    @Test func markdownAndChineseSayTheSame() {
        let md = MarkdownReport.render(results)
        #expect(md.hasPrefix("# Load test report: resnet50\n"))
        #expect(
            md.contains(
                "| 3 | poisson 300.0 qps | 300.0 | 300.0 | 1200 | 1200 | 0 | 0 | 5.00 | 11.0 | 13.0 | 1.00 / 0.400 / 4.00 | 3.9 | 1.07 | 12.5 | 1/1200 (≤4) | 299.8 | pass |"
            ))
        #expect(
            md.contains(
                "| 2 | poisson 400.0 qps | 400.0 | 320.0 | 1600 | 1280 | 24 | 0 | 70.0 | 260 | 290 | 1.00 / 0.400 / 4.00 | 3.9 | 1.07 | - | 420/1600 (≤7) | 295.0 | FAIL |"
            ))
        #expect(md.contains("P(X ≤ k | n, 1%) must be at most 1%, which needs n ≥ 459"))
        #expect(md.contains("- #2 poisson 400.0 qps\n  - 24 requests were rejected"))
        let zh = HTMLReport.render(results, language: .zh)
        // Chinese punctuation (full-width marks) where the marks touch Chinese.
        let wide = ReportText.chinesePunctuation
        #expect(zh.contains("负载测试报告") && zh.contains(wide("容量 300.0–400.0 请求/秒(P99 ≤ 15 毫秒,保守判定,99% 置信度)")) && zh.contains("目标速率"))
        #expect(zh.contains("批处理效率\u{FF08}容量 ÷ 离线\u{FF09}60%\u{FF08}58–83%\u{FF09}"))
    }

    @Test func aTargetsStepsShowTheServersOwnTiming() {
        var r = results
        r.load!.target = TargetInfo(
            url: "http://127.0.0.1:8000", encoding: .binary, server: "inferbench", serverVersion: nil, inputs: [], outputs: [], connections: 64, timeoutS: 30)
        for i in r.loadTests.indices {
            var b = LoadTestResult.Breakdown(queue: nil, transport: nil, compute: nil)
            (b.server, b.serverQueue, b.serverCompute) = (8.04, 1.8, 2.7)
            r.loadTests[i].breakdownMS = b
        }
        let text = LoadReport.render(r.loadTests, load: r.load, layout: TerminalLayout(width: 200, wide: true))
        #expect(text.contains("srv queue") && text.contains("srv compute") && text.contains("8.04") && !text.contains(" ipc "), "\(text)")
        #expect(text.contains("the server's own means per request in ms"))
        let md = MarkdownReport.render(r)
        #expect(md.contains("server / its queue / its compute ms") && md.contains("| 8.04 / 1.80 / 2.70 |"), "\(md)")
    }

    @Test func aCutShortStepIsSaidToBe() {
        var cut = results
        cut.run.status = .incomplete
        cut.loadTests[2].partial = true
        cut.loadTests[2].latencyMS = nil
        let md = MarkdownReport.render(cut)
        #expect(md.contains("INCOMPLETE"))
        #expect(
            md.contains(
                "The test was cut short during step 3 (poisson 300.0 qps) after 4 s. Over the 4 window(s) recorded it achieved 300.0 requests/s, window P99 up to 11.0 ms"
            ))
        #expect(md.contains("| 3 | poisson 300.0 qps (cut short) |"))
        #expect(LoadTimelineChart.render(cut, ReportText(.en))?.contains(">3 · 300.0/s ✓ …</text>") == true)
    }

    /// Results written before capacity intervals, offline rounds and the rule's figures read as
    /// they did: the highest rate that passed, one offline figure, no rule columns.
    @Test func resultsWrittenBeforeTheIntervalReadAsBefore() {
        var old = results
        old.load?.capacity = nil
        old.load?.offline = nil
        old.load?.batchingEfficiency = nil
        old.load?.offlineThroughputPerS = 500
        old.load?.batchBuckets = nil
        for i in old.loadTests.indices {
            old.loadTests[i].sla = nil
            old.loadTests[i].meanBatchSizePerBatch = nil
            old.loadTests[i].paddingWaste = nil
        }
        let md = MarkdownReport.render(old)
        #expect(md.contains("Highest Poisson rate whose P99 stayed within 15 ms: 300.0 requests/s (3 step(s) tried)."))
        #expect(md.contains("the batcher reached 60% of it") && !md.contains("p99 bound") && !md.contains("n ≥ 459"))
        #expect(md.contains("| 3 | poisson 300.0 qps | 300.0 | 300.0 | 1200 | 1200 | 0 | 0 | 5.00 | 11.0 | 13.0 | 1.00 / 0.400 / 4.00 | - | - | pass |"))
        // Their mean batch size is per request: not shown as the per-batch one.
        #expect(!md.contains("| 4.5 |") && md.contains("batches of up to 8, waiting"))
        let text = TerminalReport.summary(old)
        #expect(text.contains("Highest Poisson rate whose P99 stayed within 15 ms: 300.0 requests/s (3 step(s) tried).") && !text.contains("goodput"))
    }

    /// A repeat is named in the steps table, a close pass marked; the conclusion counts repeats.
    @Test func repeatsAndClosePassesAreMarked() {
        var r = results
        var first = r.loadTests[2]
        first.sla?.close = true
        var again = first
        again.sla?.close = nil
        again.sla?.repeatOf = 2
        again.slaMet = false
        r.loadTests = [r.loadTests[0], r.loadTests[1], first, again]
        r.load?.capacity = Capacity(lowerQPS: 200, upperQPS: 300)
        let md = MarkdownReport.render(r)
        #expect(md.contains("| 3 | poisson 300.0 qps | 300.0 |") && md.contains("| 299.8 | pass (close) |"))
        #expect(md.contains("| 4 | poisson 300.0 qps (repeat of #3) | 300.0 |") && md.contains("| 299.8 | FAIL |"))
        #expect(
            md.contains(
                "Capacity 200.0–300.0 requests/s at P99 ≤ 15 ms (conservative, 99% confidence): 200.0/s passed in every run, 300.0/s failed (4 step(s) run, 1 of them repeats near the SLA)."
            ))
        let text = LoadReport.render(r.loadTests, load: r.load)
        #expect(text.contains("poisson 300.0 qps (repeat of #3)") && text.contains("pass (close)"))
        #expect(LoadTimelineChart.shortLabel(again, ReportText(.en)) == "300.0/s ✗ ↻")
        // A step stopped early is allowed a share of what it planned.
        let early = LoadTestResult.SLAFigures(requests: 100, over: 4, planned: 1000, allowedOver: 2, p99BoundMS: 17, goodputPerS: 96)
        #expect(ReportText.overSLA(early) == "4/100 (≤2/1000)")
        #expect(ReportText.overSLA(.init(requests: 1000, over: 4, allowedOver: 2, p99BoundMS: 99, goodputPerS: 99.6)) == "4/1000 (≤2)")
        #expect(ReportText.overSLA(.init(requests: 300, over: 0, allowedOver: nil, p99BoundMS: nil, goodputPerS: 30)) == "0/300 (<459)")
    }

    /// Nothing failed within the search: "at least"; even the lowest rate failed: "below".
    @Test func anOpenCapacitySaysWhichEndIsMissing() throws {
        var r = results
        let offline = try #require(r.load?.offline)
        r.load?.capacity = Capacity(lowerQPS: 7174, upperQPS: nil)
        r.load?.batchingEfficiency = BatchingEfficiency(capacity: Capacity(lowerQPS: 7174, upperQPS: nil), offline: offline)
        var md = MarkdownReport.render(r)
        #expect(md.contains("Capacity at least 7,174 requests/s at P99 ≤ 15 ms (conservative, 99% confidence): no rate tried failed"))
        #expect(md.contains("batching efficiency (capacity ÷ offline) 1435% (≥ 1380%)"))
        r.load?.capacity = Capacity(lowerQPS: nil, upperQPS: 12.5)
        r.load?.bestQPS = nil
        r.load?.batchingEfficiency = BatchingEfficiency(capacity: Capacity(lowerQPS: nil, upperQPS: 12.5), offline: offline)
        md = MarkdownReport.render(r)
        #expect(
            md.contains(
                "Even the lowest rate tried, 12.5 requests/s, failed P99 ≤ 15 ms (conservative, 99% confidence) (3 step(s) run): the capacity is below it."))
        #expect(md.contains("batching efficiency (capacity ÷ offline) 0–3%"))
    }

    /// Without a search, the share of the offline rate the busiest step reached, with its range
    /// (left out when it rounds to the share).
    @Test func withoutASearchTheBatcherReachedAShareOfOffline() throws {
        let offline = try #require(OfflineThroughput(rounds: [480, 490, 500, 510, 520], roundSeconds: 1))
        let t = ReportText(.en)
        #expect(t.loadOffline(offline, efficiency: nil, reached: 300).hasSuffix("; the batcher reached 60% (58–62%) of it."))
        #expect(t.loadOffline(offline, efficiency: nil, reached: 5).hasSuffix("; the batcher reached 1% of it."))
    }

    /// `--offline` alone with rounds: the estimate and its interval on one line.
    @Test func offlineRoundsAloneAreOneLine() {
        // One sentence, wrapped to the terminal's width.
        let text = LoadReport.render([], load: results.load).replacingOccurrences(of: "\n    ", with: " ")
        #expect(
            text == "Offline throughput (all samples available, back to back at the largest batch, 5 round(s)): 499.8 samples/s (95% interval 480.5–519.8).\n")
    }

    /// `--offline` alone: its figure, no empty steps table.
    @Test func offlineAloneIsOneLine() {
        let text = LoadReport.render([], offline: 11_561)
        #expect(text.hasPrefix("Offline throughput") && text.hasSuffix("samples/s.\n"))
        #expect(!text.contains("scenario") && text.split(separator: "\n").count == 1)
    }

    /// The drain at a step's end (a 3 ms window of stragglers) is not a spike in the terminal.
    @Test func aSliverOfDrainIsLeftOutOfTheTerminalTimeline() {
        var step = LoadFixture.step(0)
        let last = step.windows[3]
        step.windows.append(
            LoadTestResult.Window(
                t: 4, seconds: 0.003, qps: 3119, p50: 5, p99: 11, errors: 0, gpuUtil: nil, powerW: nil, memUsedMB: nil, offeredQPS: nil,
                start: last.end, end: (last.end ?? 0) + 0.003))
        let text = LoadReport.timeline([step])
        #expect(!text.contains("3.1k") && !text.contains("3119"), "\(text)")
        #expect(text.contains("200.0–200.0"), "\(text)")
    }

    @Test func terminalTableShowsEachStepOverTime() {
        let text = LoadReport.render(results.loadTests, offline: 500, best: 300, sla: 15)
        #expect(text.contains("Over time, per 1 s window"))
        // 400/s achieved 320 in every window, the highest rate: full bars; its P99 climbs to the top.
        #expect(text.contains("poisson 400.0 qps  ████") && text.contains("320.0–320.0") && text.contains("▃▅▆█"), "\(text)")
        var short = results.loadTests
        for i in short.indices { short[i].windows = Array(short[i].windows.prefix(2)) }
        #expect(!LoadReport.render(short).contains("Over time"))
    }
}
