import Foundation

/// Sends requests into a batcher: open loop on a schedule, or closed loop with N in flight.
public enum LoadGenerator {
    /// A request sent later than this after its due time counts as late (it still counts
    /// its latency from the due time).
    public static let lateThreshold = 0.001

    public struct Sent: Sendable {
        public var outcomes: [RequestOutcome]
        public var late: Int
        public var start: Double
        public var duration: Double
    }

    /// Open loop: each request is due at `start + offset`, whatever happened to the ones
    /// before; latency runs from that due time, so a stall shows in every request it delays.
    /// `start` (monotonic seconds, default: 10 ms from now) is when offset 0 is due; outcomes
    /// go into `collector` as they complete, so that a watcher can read them while it runs.
    /// The result's `duration` is how long requests were sent: shorter than asked when the
    /// loop stopped early or was cancelled, so that rates and windows cover only that time.
    ///
    /// Every 100 requests the loop asks whether the step has already failed (SLA early
    /// stopping): `earlyStop` is told only the outcomes that completed since it was last
    /// asked, and keeps its own running count; `stopEarly`, if given, is handed all the
    /// outcomes so far each time (which it must then scan again: prefer `earlyStop`).
    /// `clock` is what due times are kept on; a test passes one it moves by hand.
    public static func openLoop(
        _ batcher: DynamicBatcher, offsets: [Double], duration: Double, start: Double? = nil, collector: OutcomeCollector = OutcomeCollector(),
        earlyStop: SLASearch.EarlyStop? = nil, clock: any LoadClock = MonotonicClock(),
        stopEarly: (@Sendable ([RequestOutcome]) -> Bool)? = nil
    ) async -> Sent {
        let start = start ?? clock.seconds() + 0.01
        var late = 0
        var stopped: Double? = nil
        var earlyStop = earlyStop
        var read = 0
        await withTaskGroup(of: Void.self) { group in
            for (i, offset) in offsets.enumerated() {
                if Task.isCancelled {
                    stopped = clock.seconds()
                    break
                }
                let due = start + offset
                // Sleep to just short of the due time, then spin: a sleep alone wakes late.
                if due - clock.seconds() > 0.0002 { try? await clock.sleep(untilSeconds: due - 0.0001) }
                while clock.seconds() < due { await Task.yield() }
                if clock.seconds() - due > lateThreshold { late += 1 }
                group.addTask {
                    let outcome = await batcher.submit(scheduled: due)
                    await collector.add(outcome)
                }
                guard i % 100 == 99 else { continue }
                if var rule = earlyStop {
                    let fresh = await collector.outcomes(from: read)
                    read += fresh.count
                    rule.record(fresh)
                    earlyStop = rule
                    if rule.failed {
                        stopped = clock.seconds()
                        break
                    }
                }
                if let stopEarly, stopEarly(await collector.outcomes) {
                    stopped = clock.seconds()
                    break
                }
            }
        }
        let sent = stopped.map { min(duration, max($0 - start, 0)) } ?? duration
        return Sent(outcomes: await collector.outcomes, late: late, start: start, duration: sent)
    }

    /// Closed loop: `concurrency` clients, each sending its next request when the last one
    /// returns, for `duration` seconds from `start` (default: now). A client whose request
    /// was rejected waits 1 ms before the next.
    public static func closedLoop(
        _ batcher: DynamicBatcher, concurrency: Int, duration: Double, start: Double? = nil, collector: OutcomeCollector = OutcomeCollector(),
        clock: any LoadClock = MonotonicClock()
    ) async -> Sent {
        let start = start ?? clock.seconds()
        let end = start + duration
        try? await clock.sleep(untilSeconds: start)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while clock.seconds() < end && !Task.isCancelled {
                        let outcome = await batcher.submit(scheduled: clock.seconds())
                        await collector.add(outcome)
                        if outcome.status == .rejected { try? await clock.sleep(untilSeconds: clock.seconds() + 0.001) }
                    }
                }
            }
        }
        let sent = Task.isCancelled ? min(duration, max(clock.seconds() - start, 0)) : duration
        return Sent(outcomes: await collector.outcomes, late: 0, start: start, duration: sent)
    }
}

/// Outcomes in the order they completed.
public actor OutcomeCollector {
    public private(set) var outcomes: [RequestOutcome] = []
    public init() {}
    func add(_ outcome: RequestOutcome) { outcomes.append(outcome) }
    /// The outcomes from `index` on: what completed since a watcher last read `index` of them.
    public func outcomes(from index: Int) -> [RequestOutcome] { index < outcomes.count ? Array(outcomes[index...]) : [] }
}
