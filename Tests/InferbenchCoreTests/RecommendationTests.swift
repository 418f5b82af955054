import Foundation
import Testing

@testable import InferbenchCore

/// The answer of a search from its measurements: ranking, fleet arithmetic, ties, the Pareto
/// front, and the screen's verdicts.
struct RecommendationTests {
    static let space = SearchSpace(compile: [.eager, .default], precision: [.fp16], maxBatch: [8, 32], maxDelayMS: [2], workers: [1])

    static func config(_ compile: CompileMode, _ batch: Int) -> ServingConfig {
        ServingConfig(variant: VariantKey(compile: compile, precision: .fp16), maxBatch: batch, maxDelayMS: 2, workers: 1)
    }

    static func measured(_ config: ServingConfig, round: Int, lower: Double?, upper: Double?, p99: Double?) -> ConfigRecord {
        var r = ConfigRecord(config: config)
        r.measurements = [
            CapacityMeasurement(
                round: round, folder: "round\(round)/\(config.id)", command: [], processes: round == 2 ? "auto" : "1", stepS: 5, wallS: 30, exitCode: 0,
                status: .complete, lowerQPS: lower, upperQPS: upper, p50MS: p99.map { $0 / 2 }, p99MS: p99, errors: 0)
        ]
        return r
    }

    static func record(_ configs: [ConfigRecord], peak: Double? = 50_000, price: Double? = 3) -> RecommendRecord {
        var q = RecommendQuestion(model: "resnet50", slaP99MS: 15, space: space)
        q.peakQPS = peak
        q.gpuPricePerHour = price
        var record = RecommendRecord(id: "t", command: "inferbench recommend", question: q)
        record.configs = configs
        return record
    }

    @Test func theLaterRoundAndHigherLowerBoundWinAndTheFleetIsTheArithmetic() throws {
        let best = Self.config(.default, 32)
        var dropped = Self.measured(Self.config(.eager, 8), round: 1, lower: 9_000, upper: 9_500, p99: 9)
        dropped.exclusion = Exclusion(.capacity, "round 1", round: 1)
        let record = Self.record([
            Self.measured(Self.config(.eager, 32), round: 2, lower: 5_000, upper: 5_400, p99: 12),
            Self.measured(best, round: 2, lower: 7_000, upper: 7_400, p99: 11),
            dropped,
        ])
        let answer = try #require(Recommendation.make(record))
        #expect(answer.best.config == best && answer.best.lowerQPS == 7_000 && answer.tiedWith == nil)
        let fleet = try #require(answer.fleet)
        // 50,000 / (7,000 × 0.7) = 10.2 → 11 GPUs; $33 an hour.
        #expect(fleet.gpus == 11 && fleet.plannedPerGPU == 4_900)
        #expect(fleet.costPerHourUSD == 33 && fleet.costPerMonthUSD == 33 * 730.5)
        #expect(abs((fleet.costPerMillionUSD ?? 0) - 33 / (50_000 * 3600) * 1e6) < 1e-12)
        #expect(abs((answer.costPerMillionAtCapacityUSD ?? 0) - 3 / (7_000 * 3600) * 1e6) < 1e-12)
        #expect(answer.runnersUp.map(\.exclusion.reason) == [.capacity, .capacity])
        #expect(answer.runnersUp[0].config == Self.config(.eager, 32))
    }

    @Test func aSearchStoppedBeforeAnyPassIsNotACapacityOfZero() throws {
        var stopped = Self.measured(Self.config(.eager, 32), round: 1, lower: nil, upper: 2_809, p99: nil)
        stopped.measurements[0].status = .incomplete
        stopped.measurements[0].wallS = 423
        let answer = try #require(
            Recommendation.make(Self.record([Self.measured(Self.config(.default, 32), round: 1, lower: 6_000, upper: 7_000, p99: 12), stopped])))
        let runnerUp = try #require(answer.runnersUp.first)
        #expect(runnerUp.exclusion.reason == .budget && runnerUp.exclusion.detail.hasPrefix("its SLA search was stopped after 423 s before a rate passed"))
    }

    @Test func aStageIsInterruptedWhenTheSearchReachesItsBudget() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "budget-\(UUID().uuidString)")
        let search = RecommendSearch(settings: .init(executable: "/bin/sleep", passThrough: [], folder: folder, progress: { _ in }))
        let started = Date()
        // 1.5 s left of the budget; the stage alone would take 30 s.
        let ((code, _), cut) = await search.withinBudget(10, SpentClock(before: 8.5)) {
            await search.stage.run(executable: "/bin/sleep", arguments: ["30"], log: folder.appending(path: "sleep.log"))
        }
        #expect(cut && code == 128 + SIGINT)
        #expect(Date().timeIntervalSince(started) < 15)
        let ((fast, _), notCut) = await search.withinBudget(60, SpentClock(before: 0)) {
            await search.stage.run(executable: "/bin/sleep", arguments: ["0"], log: folder.appending(path: "sleep.log"))
        }
        #expect(!notCut && fast == 0 && search.stopped == nil)
    }

    @Test func aCapacityOnAThinMarginIsCalledFragile() throws {
        // P99 10.4 ms at a passing load under half the capacity: 69% of a 15 ms SLA.
        var thin = Self.measured(Self.config(.default, 32), round: 1, lower: 6_034, upper: 7_687, p99: 12)
        (thin.measurements[0].lowestP99MS, thin.measurements[0].lowestP99QPS) = (10.42, 2_900)
        var record = Self.record([thin])
        record.answer = Recommendation.make(record)
        let lines = RecommendReport.answer(record, ReportText(.en))
        #expect(lines.contains { $0.hasPrefix("fragile: P99 was 10.4 ms even at 2,900 req/s, the lowest of any passing step (69% of the SLA)") }, "\(lines)")
        #expect(RecommendReport.answer(record, ReportText(.zh)).contains { $0.hasPrefix("脆弱") })
        // The same P99 seen only at the capacity's own edge (as in the H100 search, whose one
        // passing rate was its lower bound) says nothing of the margin: no such line.
        thin.measurements[0].lowestP99QPS = 6_034
        record = Self.record([thin])
        record.answer = Recommendation.make(record)
        #expect(!RecommendReport.answer(record, ReportText(.en)).contains { $0.contains("fragile") })
        // With room under the SLA (P99 6 ms at the lightest load): no such line.
        (thin.measurements[0].lowestP99MS, thin.measurements[0].lowestP99QPS) = (6, 2_900)
        record = Self.record([thin])
        record.answer = Recommendation.make(record)
        #expect(!RecommendReport.answer(record, ReportText(.en)).contains { $0.contains("fragile") })
    }

    @Test func aConfigurationWithAMarginRanksAboveAFragileOneThatServedMore() throws {
        // The fragile one served more and reached a later round; the one with a margin (P99 5 ms
        // at its lightest passing load) is the answer, and the fragile one says why it lost.
        var thin = Self.measured(Self.config(.default, 32), round: 2, lower: 6_034, upper: 7_687, p99: 12)
        (thin.measurements[0].lowestP99MS, thin.measurements[0].lowestP99QPS) = (10.42, 2_900)
        var margin = Self.measured(Self.config(.default, 8), round: 1, lower: 4_100, upper: 4_600, p99: 9)
        (margin.measurements[0].lowestP99MS, margin.measurements[0].lowestP99QPS) = (5, 1_000)
        var record = Self.record([thin, margin])
        let answer = try #require(Recommendation.make(record))
        #expect(answer.best.config == Self.config(.default, 8) && answer.tiedWith == nil)
        // 50,000 / (4,100 × 0.7) = 17.4 → 18 GPUs.
        #expect(answer.fleet?.gpus == 18)
        let lost = try #require(answer.runnersUp.first)
        #expect(lost.config == Self.config(.default, 32) && lost.exclusion.reason == .fragile)
        #expect(lost.exclusion.detail.hasPrefix("6,034 req/s per GPU within the SLA, but fragile: P99 was 10.4 ms even at 2,900 req/s (69% of the SLA)"))
        record.answer = answer
        #expect(!RecommendReport.answer(record, ReportText(.en)).contains { $0.hasPrefix("fragile") })
        // When every one is fragile, the most capacity wins and the answer says it is fragile.
        margin.measurements[0].lowestP99MS = 11
        record = Self.record([thin, margin])
        let allThin = try #require(Recommendation.make(record))
        #expect(allThin.best.config == Self.config(.default, 32) && allThin.runnersUp.first?.exclusion.reason == .capacity)
    }

    @Test func theHalfKeptAfterARoundPutsThoseWithAMarginFirst() {
        // Four passed round 1: the fragile one served most, yet the two kept are the two with a
        // margin; the fragile one is out as fragile, the slowest on capacity.
        var fragile = Self.measured(Self.config(.default, 32), round: 1, lower: 9_000, upper: 9_600, p99: 13)
        (fragile.measurements[0].lowestP99MS, fragile.measurements[0].lowestP99QPS) = (12, 3_000)
        let configs =
            [fragile]
            + [(CompileMode.eager, 32, 7_000.0), (.default, 8, 6_000), (.eager, 8, 2_000)].map { c, b, qps in
                var r = Self.measured(Self.config(c, b), round: 1, lower: qps, upper: qps * 1.1, p99: 8)
                r.measurements[0].lowestP99MS = 4
                return r
            }
        var record = Self.record(configs)
        let kept = RecommendSearch.keepHalf(&record, configs.map(\.config), round: 1)
        #expect(kept == [Self.config(.eager, 32), Self.config(.default, 8)])
        #expect(record.entry(Self.config(.default, 32)).exclusion?.reason == .fragile)
        let slowest = record.entry(Self.config(.eager, 8)).exclusion
        #expect(slowest?.reason == .capacity && slowest?.detail == "round 1: 2,000 req/s within the SLA, below the 6,000 of the half kept")
    }

    @Test func aCheckThatDisagreesSaysWhatMoved() throws {
        // As on the H100: the search's 6,034–7,687 req/s against a check of 136.7–585.4.
        var searched = Self.measured(Self.config(.default, 32), round: 1, lower: 6_034, upper: 7_687, p99: 12)
        (searched.measurements[0].lowestP99MS, searched.measurements[0].lowestP99QPS, searched.measurements[0].offlinePerS) = (10.42, 2_900, 11_606)
        var record = Self.record([searched])
        record.answer = Recommendation.make(record)
        var m = Self.measured(Self.config(.default, 32), round: 0, lower: 136.7, upper: 585.4, p99: 14.8).measurements[0]
        (m.offlinePerS, m.lowestP99MS, m.lowestP99QPS, m.folder) = (9_171, 12.04, 567.6, "check-1")
        m.starts = [.init(lowerQPS: 567.6, upperQPS: 585.4), .init(lowerQPS: 534, upperQPS: 550.4), .init(lowerQPS: 136.7, upperQPS: 150.3)]
        let line = RecommendReport.checkLine(CheckRecord(measurement: m, agrees: false), record, ReportText(.en))
        #expect(
            line.contains(
                "does NOT agree (the brackets share no rate). Why: its 3 fresh starts found 567.6–585.4, 534.0–550.4, 136.7–150.3 req/s (4.15× apart)"),
            "\(line)")
        #expect(line.contains("offline throughput 9,171 samples/s against 11,606 in the search (0.79×): the workers themselves ran slower"), "\(line)")
        #expect(line.contains("P99 at the lightest load 12.0 ms at 567.6 req/s against 10.4 ms in the search"), "\(line)")
        #expect(line.contains("the recommendation was fragile (P99 10.4 ms at its lightest passing load, 69% of the SLA)"), "\(line)")
        #expect(RecommendReport.checkLine(CheckRecord(measurement: m, agrees: false), record, ReportText(.zh)).contains("原因：其 3 次重新启动"))
        // A check that agrees, or one whose figures moved little, gives no reasons.
        #expect(!RecommendReport.checkLine(CheckRecord(measurement: m, agrees: true), record, ReportText(.en)).contains("Why"))
        m.starts = nil
        (m.offlinePerS, m.lowestP99MS) = (11_000, 6.5)
        record.configs[0].measurements[0].lowestP99MS = 6
        record.answer = Recommendation.make(record)
        #expect(!RecommendReport.checkLine(CheckRecord(measurement: m, agrees: false), record, ReportText(.en)).contains("Why"))
    }

    @Test func overlappingBracketsOfTheFinalRoundAreATie() throws {
        let record = Self.record([
            Self.measured(Self.config(.default, 32), round: 2, lower: 7_000, upper: 7_600, p99: 11),
            Self.measured(Self.config(.default, 8), round: 2, lower: 6_800, upper: 7_200, p99: 9),
        ])
        let answer = try #require(Recommendation.make(record))
        #expect(answer.tiedWith == Self.config(.default, 8))
    }

    @Test func noPassingRateIsNoAnswer() {
        var failed = Self.measured(Self.config(.default, 32), round: 1, lower: nil, upper: 100, p99: nil)
        failed.exclusion = Exclusion(.sla, "no rate passed", round: 1)
        #expect(Recommendation.make(Self.record([failed])) == nil)
        let text = RecommendReport.noAnswer(Self.record([failed]), ReportText(.en))
        #expect(text.contains("no configuration serves within P99 ≤ 15 ms (sla 1)"))
    }

    @Test func theParetoFrontHoldsTheUndominated() {
        let points = Recommendation.pareto([
            Self.measured(Self.config(.default, 32), round: 1, lower: 7_000, upper: nil, p99: 12),
            Self.measured(Self.config(.default, 8), round: 1, lower: 5_000, upper: nil, p99: 6),
            Self.measured(Self.config(.eager, 32), round: 1, lower: 4_000, upper: nil, p99: 13),
        ])
        #expect(points.map(\.front) == [false, true, true])  // sorted by rate: eager 32 is dominated
    }

    @Test func theScreenExcludesInTheOrderAUserCanLeastChange() {
        var q = RecommendQuestion(model: "m", slaP99MS: 10, maxMemoryMB: 1000, maxColdStartS: 60, space: Self.space)
        q.maxMemoryMB = 1000
        var s = VariantScreen(variant: VariantKey(compile: .default, precision: .fp16), batches: [.init(batch: 1, latencyMS: 12, perS: 83)])
        s.accuracy = .init(maxRelErr: 0.2, cosine: 0.98, withinTolerance: false)
        s.memoryMB = 2000
        var a = s
        a.judge(q)
        #expect(a.exclusion?.reason == .accuracy)
        s.accuracy = nil
        var m = s
        m.judge(q)
        #expect(m.exclusion?.reason == .memory)
        s.memoryMB = 500
        s.coldStartS = 90
        var c = s
        c.judge(q)
        #expect(c.exclusion?.reason == .coldStart)
        s.coldStartS = 30
        var l = s
        l.judge(q)
        #expect(l.exclusion?.reason == .sla && l.exclusion?.detail.contains("12.0 ms") == true)
        // The Chinese report says it in Chinese, with the same figures.
        #expect(l.exclusion?.text(ReportText(.zh)).contains("单个请求本身就要 12.0 ms") == true, "\(l.exclusion?.text(ReportText(.zh)) ?? "")")
        #expect(l.exclusion?.text(ReportText(.en)) == l.exclusion?.detail)
        s.batches = [.init(batch: 1, latencyMS: 3, perS: 333), .init(batch: 32, latencyMS: 14, perS: 2_285)]
        var ok = s
        ok.judge(q)
        #expect(ok.exclusion == nil)
        // A full batch over the bound, or workers over the memory, exclude the configuration.
        let big = ServingConfig(variant: s.variant, maxBatch: 32, maxDelayMS: 2, workers: 1)
        #expect(big.exclusion(ok, q)?.reason == .sla)
        let two = ServingConfig(variant: s.variant, maxBatch: 1, maxDelayMS: 2, workers: 3)
        #expect(two.exclusion(ok, q)?.reason == .memory)
        #expect(two.estimate(ok) == 999)
    }

    @Test func aRecordRoundTripsThroughItsFile() throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "recommend-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var record = Self.record([Self.measured(Self.config(.default, 32), round: 2, lower: 7_000, upper: 7_400, p99: 11)])
        record.answer = Recommendation.make(record)
        try record.save(folder: folder)
        let back = try RecommendRecord.load(folder: folder)
        #expect(back.question == record.question && back.configs == record.configs && back.answer == record.answer)
        #expect(RecommendSearch.overlaps(back.configs[0].measurements[0], try #require(back.answer).best))
    }

    /// A search saved in the store is found by id, prefix or `latest`, listed newest first, and
    /// its folder comes back, holding the stored record, when it was deleted.
    @Test func aStoredSearchIsFoundByIDAndItsFolderRestored() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "recommend-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let storePath = dir.appending(path: "store.sqlite").path
        let store = try ResultsStore(path: storePath)
        var older = Self.record([Self.measured(Self.config(.default, 32), round: 2, lower: 7_000, upper: 7_400, p99: 11)])
        older.id = "20261207-100000-aaaa"
        older.startedAt = Date(timeIntervalSince1970: 1_800_000_000)
        older.answer = Recommendation.make(older)
        var newer = Self.record([])
        newer.id = "20261207-110000-bbbb"
        newer.startedAt = older.startedAt.addingTimeInterval(3600)
        try store.save(older, folder: dir.appending(path: "a"))
        try store.save(newer, folder: dir.appending(path: "b"))
        try store.save(newer, folder: dir.appending(path: "b"))  // saved again after a stage: one row
        let listed = try store.recommendSearches()
        #expect(listed.map(\.id) == [newer.id, older.id])
        #expect(listed[1].answer == "default fp16, max batch 32, delay 2 ms, 1 worker" && listed[0].answer == nil, "\(listed)")

        let (found, folder) = try ResultsStore.resolveSearch("20261207-10", storePath: storePath, flag: "--resume")
        #expect(found.id == older.id && folder.path == dir.appending(path: "a").path)
        #expect(try RecommendRecord.load(folder: folder).id == older.id, "the deleted folder is back with the record")
        #expect(try ResultsStore.resolveSearch("latest", storePath: storePath, flag: "--resume").0.id == newer.id)
        #expect(throws: InferbenchError.self) { try ResultsStore.resolveSearch("20261207", storePath: storePath, flag: "--resume") }
        #expect(throws: InferbenchError.self) { try ResultsStore.resolveSearch("nosuch", storePath: storePath, flag: "--check") }
    }
}
