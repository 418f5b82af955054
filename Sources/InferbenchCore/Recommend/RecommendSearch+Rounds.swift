import Foundation
import Synchronization

extension RecommendSearch {
    /// The rounds: the first measures every configuration that passed the screen (the most
    /// promising first, so a short budget goes to them), each next one the better half of the
    /// last, and the last one, once two or fewer are left, measures with fresh starts of the
    /// workers (`--processes auto`).
    func rounds(_ record: inout RecommendRecord, _ clock: SpentClock) async throws(InferbenchError) {
        // Decisions of rounds are recomputed from the measurements (a resumed search may have a
        // larger budget); the screen's stand.
        for i in record.configs.indices where (record.configs[i].exclusion?.round ?? 0) >= 1 { record.configs[i].exclusion = nil }
        var current = record.configs.filter { $0.exclusion == nil }.sorted { ($0.estimateQPS ?? 0) > ($1.estimateQPS ?? 0) }.map(\.config)
        var round = 1
        while !current.isEmpty {
            let final = current.count <= 2
            for (k, config) in current.enumerated() {
                guard stopped == nil else { return }
                let i = record.index(of: config)!
                if record.configs[i].measurements.contains(where: { $0.round == round && $0.status == .complete }) { continue }
                // Past the budget this one waits; a later, cheaper one (an eager variant starts in
                // seconds) may still fit.
                let predicted = predict(record, config, round: round, final: final)
                if clock.spent + predicted > record.question.budgetS {
                    outOfBudget(&record, config, round: round, predicted: predicted, spent: clock.spent)
                    try save(&record, clock)
                    continue
                }
                settings.progress("round \(round)\(final ? " (final)" : ""), \(k + 1) of \(current.count): \(config)")
                let (m, cut) = await withinBudget(record.question.budgetS, clock) { await measure(config, record.question, round: round, final: final) }
                record.configs[i].measurements.append(m)
                try save(&record, clock)
                if cut && m.status == .incomplete {
                    settings.progress(
                        "  stopped at the --budget of \(Format.seconds(record.question.budgetS)): what it measured is kept (--resume with a larger --budget measures it again)"
                    )
                    continue
                }
                settings.progress("  \(Self.summary(m)); \(Self.remaining(record, current[(k + 1)...], round: round, final: final, search: self))")
            }
            judge(&record, current, round: round)
            try save(&record, clock)
            if final { return }
            current = Self.keepHalf(&record, current, round: round)
            round += 1
        }
    }

    /// After a round that was not the last: the better half of those still passing go on, and the
    /// rest are out with the figure that decided it. Those with a margin to the SLA come first (a
    /// fragile capacity is one a second run may not confirm), each group by capacity.
    static func keepHalf(_ record: inout RecommendRecord, _ current: [ServingConfig], round: Int) -> [ServingConfig] {
        let measured = record
        let sla = record.question.slaP99MS
        func lower(_ c: ServingConfig) -> Double? { measured.entry(c).latest?.lowerQPS }
        func fragile(_ c: ServingConfig) -> Bool { measured.entry(c).latest?.fragile(slaP99MS: sla) ?? false }
        // Groups: a margin, fragile, no capacity yet (cut by the budget before a rate passed).
        func group(_ c: ServingConfig) -> Int { lower(c) == nil ? 2 : fragile(c) ? 1 : 0 }
        let passing = current.filter { measured.entry($0).exclusion == nil }.sorted {
            group($0) != group($1) ? group($0) < group($1) : (lower($0) ?? 0) > (lower($1) ?? 0)
        }
        let keep = (passing.count + 1) / 2
        guard keep < passing.count, let last = lower(passing[keep - 1]) else { return Array(passing.prefix(keep)) }
        for config in passing[keep...] {
            let i = record.index(of: config)!
            let qps = lower(config) ?? 0
            if qps > last, let m = measured.entry(config).latest, let why = Recommendation.fragileExclusion(m, sla: sla) {
                record.configs[i].exclusion = why
                continue
            }
            record.configs[i].exclusion = Exclusion(
                .capacity, "round \(round): \(Format.qps(qps)) req/s within the SLA, below the \(Format.qps(last)) of the half kept",
                zh: "第 \(round) 轮:SLA 内 \(Format.qps(qps)) 请求/秒,低于保留的一半的 \(Format.qps(last))", round: round)
        }
        return Array(passing.prefix(keep))
    }

    /// Runs one stage, interrupting its child once the search's time reaches `budget` (a
    /// measurement can run far past its prediction: slow steps at low rates, a slow process), so
    /// that the search ends within its budget with what the stage finished. Returns whether it
    /// was cut.
    func withinBudget<T: Sendable>(_ budget: Double, _ clock: SpentClock, _ body: () async -> T) async -> (T, cut: Bool) {
        let cut = Mutex(false)
        let watchdog = Task { [stage] in
            try await Task.sleep(for: .seconds(max(0, budget - clock.spent)))
            cut.withLock { $0 = true }
            stage.interruptCurrent()
        }
        let value = await body()
        watchdog.cancel()
        return (value, cut.withLock { $0 })
    }

    /// After a round: a configuration whose search failed, or passed no rate, is out.
    func judge(_ record: inout RecommendRecord, _ current: [ServingConfig], round: Int) {
        for config in current {
            let i = record.index(of: config)!
            guard let m = record.configs[i].measurements.last(where: { $0.round == round }) else { continue }
            if m.status == .failed {
                record.configs[i].exclusion = Exclusion(.failed, m.message ?? "the load test failed (exit code \(m.exitCode))", round: round)
            } else if m.lowerQPS == nil, m.status == .complete, let rate = m.unloadedQPS, let p99 = m.unloadedP99MS {
                let bound = Format.trimmed(record.question.slaP99MS)
                record.configs[i].exclusion = Exclusion(
                    .sla, "P99 \(Format.ms(p99)) ms > \(bound) ms even unloaded (\(Format.qps(rate)) req/s): the serving path's own latency (round \(round))",
                    zh: "即使几乎空载(\(Format.qps(rate)) 请求/秒)P99 也为 \(Format.ms(p99)) 毫秒 > \(bound) 毫秒:这是服务路径本身的延迟(第 \(round) 轮)", round: round)
            } else if m.lowerQPS == nil, m.status == .complete {
                let bound = Format.trimmed(record.question.slaP99MS)
                record.configs[i].exclusion = Exclusion(
                    .sla, "no rate the search tried kept P99 ≤ \(bound) ms (round \(round))", zh: "搜索试过的速率都没有保持 P99 ≤ \(bound) ms(第 \(round) 轮)",
                    round: round)
            }
        }
    }

    func outOfBudget(_ record: inout RecommendRecord, _ config: ServingConfig, round: Int, predicted: Double, spent: Double) {
        let budget = record.question.budgetS
        let i = record.index(of: config)!
        settings.progress(
            "round \(round): \(config) not measured: about \(Format.seconds(predicted)) would pass the --budget of \(Format.seconds(budget)) (\(Format.seconds(spent)) spent; --resume with a larger --budget continues)"
        )
        // Measured in an earlier round: still ranked on that round's figures.
        guard record.configs[i].measurements.allSatisfy({ $0.status == .failed }) else { return }
        record.configs[i].exclusion = Exclusion(
            .budget, "not measured: about \(Format.seconds(predicted)) more would pass the --budget of \(Format.seconds(budget))",
            zh: "未测量:再用约 \(Format.seconds(predicted)) 就会超过 --budget \(Format.seconds(budget))", round: round)
    }

    /// Seconds the measurement of `config` in `round` is likely to take: the mean of that round's
    /// so far, else twice an earlier round's (steps twice as long; twice again for the final
    /// round's two starts), else ten steps; in each case moved by how much longer or shorter
    /// this variant's cold start is than those measured (an eager variant starts in seconds, a
    /// compiled one in tens of them), once per start.
    func predict(_ record: RecommendRecord, _ config: ServingConfig?, round: Int, final: Bool) -> Double {
        let starts = final ? 2.0 : 1.0
        let cold = { (c: ServingConfig) in record.screen?.variants.first { $0.variant == c.variant }?.coldStartS }
        let done = record.configs.filter { !$0.measurements.isEmpty }.flatMap { c in
            c.measurements.filter { $0.status == .complete }.map { (m: $0, cold: cold(c.config)) }
        }
        func shifted(_ runs: [(m: CapacityMeasurement, cold: Double?)], scale: Double) -> Double {
            let wall = runs.map(\.m.wallS).reduce(0, +) / Double(runs.count)
            let colds = runs.compactMap(\.cold)
            guard let config, let mine = cold(config), !colds.isEmpty else { return wall * scale }
            let theirs = colds.reduce(0, +) / Double(colds.count)
            return max(wall * scale + (mine - theirs) * starts, 1)
        }
        let same = done.filter { $0.m.round == round }
        if !same.isEmpty { return shifted(same, scale: 1) }
        if let last = done.map(\.m.round).max() {
            return shifted(done.filter { $0.m.round == last }, scale: pow(2, Double(round - last)) * starts)
        }
        let startup = config.flatMap(cold) ?? record.screen?.variants.compactMap(\.coldStartS).max() ?? 10
        return startup * starts + 10 * record.question.stepS * pow(2, Double(round - 1))
    }

    /// One SLA search: `inferbench load --find-max-qps` into `roundN/<config>`.
    func measure(_ config: ServingConfig, _ q: RecommendQuestion, round: Int, final: Bool) async -> CapacityMeasurement {
        var folder = "round\(round)/\(config.id)"
        var n = 2
        while FileManager.default.fileExists(atPath: path(folder)) {
            folder = "round\(round)/\(config.id)-\(n)"
            n += 1
        }
        let step = q.stepS * pow(2, Double(round - 1))
        let processes = final ? "auto" : "1"
        let args =
            ["load"] + config.loadArguments(q) + [
                "--find-max-qps", "--sla-p99", Format.trimmed(q.slaP99MS), "--light-step", "--processes", processes, "--duration", Format.trimmed(step),
                "--out", path(folder),
            ] + settings.passThrough
        return await capacity(args: args, folder: folder, round: round, processes: processes, step: step)
    }

    /// Runs a `load --find-max-qps` and reads what it found.
    func capacity(args: [String], folder: String, round: Int, processes: String, step: Double) async -> CapacityMeasurement {
        let started = Date()
        let log = settings.folder.appending(path: folder + ".log")
        let (code, problem) = await stage.run(executable: settings.executable, arguments: args, log: log)
        var m = CapacityMeasurement(
            round: round, folder: folder, command: args, processes: processes, stepS: step, wallS: Date().timeIntervalSince(started), exitCode: code ?? -1,
            status: .complete, errors: 0)
        if let (results, _) = try? RunResults.load(path: path(folder)) {
            m.read(results)
            if results.run.status == .incomplete || stopped != nil { m.status = .incomplete }
        } else {
            m.status = stopped != nil ? .incomplete : .failed
            m.message = problem ?? "exit code \(code.map(String.init) ?? "?"): \(Self.lastLine(of: log) ?? "no results") (log: \(log.path))"
        }
        return m
    }

    static func lastLine(of log: URL) -> String? {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init)
    }

    static func summary(_ m: CapacityMeasurement) -> String {
        switch m.status {
        case .failed: return "failed: \(m.message ?? "")"
        case .incomplete: return "stopped"
        case .complete:
            guard let lower = m.lowerQPS else { return "no rate passed" }
            let bracket = m.upperQPS.map { "\(Format.qps(lower))–\(Format.qps($0)) req/s" } ?? "at least \(Format.qps(lower)) req/s"
            return "\(bracket), P99 \(Format.ms(m.p99MS)) ms there (\(Format.seconds(m.wallS)))"
        }
    }

    static func remaining(
        _ record: RecommendRecord, _ rest: ArraySlice<ServingConfig>, round: Int, final: Bool, search: RecommendSearch
    ) -> String {
        let left = rest.reduce(0) { $0 + search.predict(record, $1, round: round, final: final) }
        let budget = max(0, record.question.budgetS - record.spentS)
        return "about \(Format.seconds(left)) left in round \(round), \(Format.seconds(budget)) of the budget left"
    }
}
