import Foundation

/// The search for the highest Poisson rate whose P99 stays under an SLA, answered as an
/// interval.
///
/// The rule, stated in the report: each step runs at least `minDuration` seconds and
/// `minQueries` requests (whichever is longer, capped at `maxDuration`), and never fewer than
/// the 459 requests without which the SLA rule cannot pass. A step passes when the SLA rule
/// (``SLARule``: at 99% confidence, at most 1% of its requests exceed the SLA) holds, it
/// dropped nothing, errors are under 1% and it achieved at least 95% of the target rate. A step
/// stops early, as failed, once more of its planned requests have exceeded the SLA than the rule
/// allows (it cannot pass any more) — MLPerf LoadGen's early stopping.
///
/// A pass whose conservative P99 comes within `closeMargin` of the SLA is run once more, with
/// other arrivals; a rate passes only when all its runs pass. (A failed step is not repeated:
/// a second run could not make its rate pass.) The search brackets the rate between the best
/// pass and the lowest fail and halves the bracket until it is within `tolerance` of the pass;
/// the answer is that bracket, ``Capacity``.
public struct SLASearch: Sendable, Equatable {
    public var slaP99MS: Double
    public var rule = SLARule.p99
    public var minDuration: Double = 10
    public var maxDuration: Double = 60
    public var minQueries = 1000
    public var tolerance = 0.05
    /// Rates tried at most; repeats of close steps come on top.
    public var maxSteps = 10
    /// A pass whose conservative P99 is at least (1 − this) × the SLA is close: run again.
    public var closeMargin = 0.10
    public var repeatsCloseSteps = true
    /// After the bracket, one more step at ``lightStepFraction`` of its lower rate (unless a
    /// passing step already ran at ``lightLoadBound`` of it or less): the serving path's latency at light
    /// load, which tells whether the capacity keeps a margin to the SLA. Near the capacity P99
    /// approaches the SLA by definition, so the bracket's own steps cannot tell. It decides
    /// nothing of the bracket.
    public var lightStep = false
    /// The light step's rate, as a fraction of the bracket's lower rate.
    public static let lightStepFraction = 0.25
    /// A rate at most this fraction of the capacity's lower bound is a light load.
    public static let lightLoadBound = 0.5

    public init(slaP99MS: Double) { self.slaP99MS = slaP99MS }

    /// Fewer requests than this in the server on average (Little's law: achieved rate × mean
    /// latency) make a step unloaded: its latency is the serving path's own, not queueing.
    public static let unloadedInFlight = 0.2

    /// Whether `step` failed while unloaded. A lower rate cannot bring its P99 down by much, and
    /// each halving doubles the step's length (the rule's 459 requests): the search stops there
    /// rather than spend minutes on ever-slower steps that must fail too.
    public static func failedUnloaded(_ step: LoadTestResult) -> Bool {
        guard step.slaMet == false, let mean = step.latencyMS?.mean, step.achievedQPS > 0 else { return false }
        return step.achievedQPS * mean / 1000 < unloadedInFlight
    }

    /// The step that ended a search whose every rate failed because it failed unloaded (its
    /// rate is the capacity's upper bound `upper`); nil when the search ended otherwise.
    public static func unloadedFailure(_ steps: [LoadTestResult], upper: Double?) -> LoadTestResult? {
        steps.last { $0.targetQPS == upper && failedUnloaded($0) }
    }

    /// How long a step at `qps` runs: `minQueries` requests within [`minDuration`,
    /// `maxDuration`], but long enough for the rule's minimum whatever the cap.
    public func duration(for qps: Double) -> Double {
        let qps = max(qps, 1e-9)
        let planned = min(maxDuration, max(minDuration, Double(minQueries) / qps))
        return max(planned, Double(rule.minimumRequests) / qps)
    }

    /// The arrivals of one step: a Poisson schedule, how long it runs and how many requests
    /// fall in that time. The offsets are not held: the generator and the window watcher each
    /// stream them from the seeded schedule.
    public struct StepSchedule: Sendable, Equatable {
        public var arrivals: ArrivalSchedule
        public var duration: Double
        public var planned: Int
        public var offsets: ArrivalSchedule.Arrivals { arrivals.arrivals(duration: duration) }
    }

    /// The arrivals of a step at `qps`: Poisson over ``duration(for:)``, lengthened until there
    /// are at least the rule's minimum of them (a Poisson draw can fall short of its mean).
    public func schedule(qps: Double, seed: UInt64) -> StepSchedule {
        let arrivals = ArrivalSchedule.poisson(qps: qps, seed: seed)
        var duration = self.duration(for: qps)
        var planned = arrivals.count(duration: duration)
        let minimum = rule.minimumRequests
        while planned < minimum && qps > 0 {
            duration *= 1.1
            planned = arrivals.count(duration: duration)
        }
        return StepSchedule(arrivals: arrivals, duration: duration, planned: planned)
    }

    /// A finished step's figures under the rule, from all its requests (`duration`: how long
    /// they were sent, for goodput). `planned`: the requests a step stopped early would have
    /// sent; the rule's allowance is of those.
    public func figures(_ outcomes: [RequestOutcome], duration: Double, planned: Int? = nil) -> LoadTestResult.SLAFigures {
        let latencies = outcomes.map { $0.status == .ok ? ($0.completed - $0.scheduled) * 1000 : Double.infinity }
        let over = latencies.filter { $0 > slaP99MS }.count
        let planned = planned.flatMap { $0 > latencies.count ? $0 : nil }
        return LoadTestResult.SLAFigures(
            requests: latencies.count, over: over, planned: planned, allowedOver: rule.allowedOver(planned ?? latencies.count),
            p99BoundMS: rule.bound(latencies, planned: planned), goodputPerS: duration > 0 ? Double(latencies.count - over) / duration : 0)
    }

    /// The step kept up when it completed at least 95% of what it offered: its arrivals over
    /// the time they were sent, not the nominal rate. A Poisson step's arrival count is itself
    /// random (one standard deviation is 3% at 1,000 requests), so against the nominal rate about
    /// one step in twenty failed with no request over the SLA (seen in CI: 289.7 req/s, 934
    /// sent, none over, failed). Older results without a duration use the nominal rate.
    public func passes(_ step: LoadTestResult) -> Bool {
        guard let sla = step.sla, let allowed = sla.allowedOver, let target = step.targetQPS, step.sent > 0 else { return false }
        let offered = step.durationS > 0 ? Double(step.sent) / step.durationS : target
        return sla.over <= allowed && step.dropped == 0 && Double(step.errors) < 0.01 * Double(step.sent) && step.achievedQPS >= 0.95 * offered
            && step.stoppedEarly != true
    }

    /// A pass whose conservative P99 came within `closeMargin` of the SLA.
    public func isClose(_ step: LoadTestResult) -> Bool {
        guard passes(step), let bound = step.sla?.p99BoundMS else { return false }
        return bound >= (1 - closeMargin) * slaP99MS
    }

    /// Sets a step's verdict from its `sla` figures: `sla_met`, and `close` and `repeat_of`.
    public func judge(_ step: inout LoadTestResult, repeatOf: Int?) {
        step.slaMet = passes(step)
        let close = isClose(step)
        step.sla?.close = close ? true : nil
        step.sla?.repeatOf = repeatOf
    }

    /// Whether a running step has already failed: more of its `planned` requests beyond the SLA
    /// than the rule allows.
    /// Scans all of `outcomes`; a running step should keep an ``EarlyStop`` instead.
    public func failedEarly(_ outcomes: [RequestOutcome], planned: Int) -> Bool {
        var rule = earlyStop(planned: planned)
        rule.record(outcomes)
        return rule.failed
    }

    /// The early-stopping rule for a step of `planned` requests, with nothing counted yet.
    public func earlyStop(planned: Int) -> EarlyStop { EarlyStop(slaP99MS: slaP99MS, planned: planned, rule: rule) }

    /// The early-stopping rule of one running step, kept as a running count: each outcome is
    /// read once, when it is recorded. A request counts against the step when it failed, was
    /// rejected, or took longer than the SLA from its due time to its completion.
    public struct EarlyStop: Sendable, Equatable {
        public let slaP99MS: Double
        public let planned: Int
        /// The most of the planned requests that may exceed the SLA; nil when the step is too
        /// short to pass at all (then it runs to its end, for its figures).
        public let allowed: Int?
        /// Outcomes recorded so far, and how many of them count against the step.
        public private(set) var recorded = 0
        public private(set) var over = 0

        public init(slaP99MS: Double, planned: Int, rule: SLARule = .p99) {
            self.slaP99MS = slaP99MS
            self.planned = planned
            allowed = rule.allowedOver(planned)
        }

        public mutating func record(_ outcomes: some Sequence<RequestOutcome>) {
            for o in outcomes {
                recorded += 1
                if o.status != .ok || (o.completed - o.scheduled) * 1000 > slaP99MS { over += 1 }
            }
        }

        /// More of the planned requests are already beyond the SLA than the rule allows: the
        /// step cannot pass any more.
        public var failed: Bool { allowed.map { over > $0 } ?? false }
    }

    /// What a search found: every step it ran, in order, and the capacity they bracket.
    public struct Outcome: Sendable {
        public var steps: [LoadTestResult]
        public var capacity: Capacity
        /// The highest rate whose every run passed.
        public var best: Double? { capacity.lowerQPS }
    }

    /// Runs the search; `step(qps, repeatOf)` runs one step (`repeatOf`: the index among the
    /// steps so far of the run it repeats, nil for a first run). `start` is a first guess of
    /// capacity. A step that ends with the task cancelled is kept but decides nothing.
    public func run(start: Double, step: (Double, Int?) async -> LoadTestResult) async -> Outcome {
        await search(from: start, factor: 2, step: step)
    }

    /// Checks another start of the workers against the bracket `first` found: its lower rate,
    /// then its upper one. When they pass and fail again, two steps suffice; otherwise the
    /// search moves by the bracket's width, a wider step each time it moves the same way, and
    /// halves again. On a cloud GPU a fresh start of the same workers can serve 5% more or less
    /// (two runs' brackets did not overlap), so one start's bracket is not the capacity.
    public func confirm(_ first: Capacity, step: (Double, Int?) async -> LoadTestResult) async -> Outcome {
        guard let l = first.lowerQPS, let h = first.upperQPS, h > l else {
            return await run(start: first.lowerQPS ?? (first.upperQPS ?? 200) / 2, step: step)
        }
        return await search(from: l, factor: h / l, step: step)
    }

    /// The bisection: from `rate`, up or down by `factor` (squared at each further move the
    /// same way, at most 2×) until a pass and a fail bracket the capacity, then halving.
    func search(from start: Double, factor first: Double, step: (Double, Int?) async -> LoadTestResult) async -> Outcome {
        var steps: [LoadTestResult] = []
        var low: Double? = nil
        var high: Double? = nil
        var rate = min(max(start, 1), ArrivalSchedule.maximumRate)
        var factor = first
        func attempt(_ repeatOf: Int?) async -> Bool {
            var result = await step(rate, repeatOf)
            judge(&result, repeatOf: repeatOf)
            steps.append(result)
            return result.slaMet == true
        }
        for _ in 0..<maxSteps {
            if Task.isCancelled { break }
            var passed = await attempt(nil)
            if passed && repeatsCloseSteps && steps.last?.sla?.close == true && !Task.isCancelled {
                passed = await attempt(steps.count - 1)
            }
            if Task.isCancelled { break }
            if passed { low = max(low ?? 0, rate) } else { high = min(high ?? .infinity, rate) }
            if low == nil, let last = steps.last, Self.failedUnloaded(last) { break }
            switch (low, high) {
            case (let l?, let h?):
                if (h - l) / l <= tolerance {
                    await lightLoad(below: l, &steps, step: step)
                    return Outcome(steps: steps, capacity: Capacity(lowerQPS: l, upperQPS: h, rule: rule))
                }
                rate = (l + h) / 2
            case (let l?, nil): rate = l * factor
            case (nil, let h?): rate = h / factor
            case (nil, nil): break
            }
            factor = min(2, factor * factor)
            if rate < 0.5 || low == ArrivalSchedule.maximumRate { break }
            // The generator cannot schedule more: a pass there leaves the capacity open above.
            rate = min(rate, ArrivalSchedule.maximumRate)
        }
        if let low { await lightLoad(below: low, &steps, step: step) }
        return Outcome(steps: steps, capacity: Capacity(lowerQPS: low, upperQPS: high, rule: rule))
    }

    /// ``lightStep``: one step at a quarter of `lower`, judged like the others, unless a pass
    /// at half of it or less already shows the latency there (or the search was stopped).
    func lightLoad(below lower: Double, _ steps: inout [LoadTestResult], step: (Double, Int?) async -> LoadTestResult) async {
        let light = lower * Self.lightLoadBound
        guard lightStep, !Task.isCancelled, !steps.contains(where: { $0.slaMet == true && ($0.targetQPS ?? .infinity) <= light }) else { return }
        var result = await step(lower * Self.lightStepFraction, nil)
        judge(&result, repeatOf: nil)
        steps.append(result)
    }
}
