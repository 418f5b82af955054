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
    /// `stopEarly` is asked every 100 requests with the outcomes so far (for SLA early stopping).
    /// `start` (monotonic seconds, default: 10 ms from now) is when offset 0 is due; outcomes
    /// go into `collector` as they complete, so that a watcher can read them while it runs.
    /// The result's `duration` is how long requests were sent: shorter than asked when the
    /// loop stopped early or was cancelled, so that rates and windows cover only that time.
    public static func openLoop(
        _ batcher: DynamicBatcher, offsets: [Double], duration: Double, start: Double? = nil, collector: OutcomeCollector = OutcomeCollector(),
        stopEarly: (@Sendable ([RequestOutcome]) -> Bool)? = nil
    ) async -> Sent {
        let start = start ?? Monotonic.now() + 0.01
        var late = 0
        var stopped: Double? = nil
        await withTaskGroup(of: Void.self) { group in
            for (i, offset) in offsets.enumerated() {
                if Task.isCancelled {
                    stopped = Monotonic.now()
                    break
                }
                let due = start + offset
                let wait = due - Monotonic.now()
                if wait > 0.0002 { try? await Task.sleep(for: .microseconds(Int64((wait - 0.0001) * 1e6))) }
                while Monotonic.now() < due { await Task.yield() }
                if Monotonic.now() - due > lateThreshold { late += 1 }
                group.addTask {
                    let outcome = await batcher.submit(scheduled: due)
                    await collector.add(outcome)
                }
                if let stopEarly, i % 100 == 99, stopEarly(await collector.outcomes) {
                    stopped = Monotonic.now()
                    break
                }
            }
        }
        let sent = stopped.map { min(duration, max($0 - start, 0)) } ?? duration
        return Sent(outcomes: await collector.outcomes, late: late, start: start, duration: sent)
    }

    /// Closed loop: `concurrency` clients, each sending its next request when the last one
    /// returns, for `duration` seconds from `start` (default: now).
    public static func closedLoop(
        _ batcher: DynamicBatcher, concurrency: Int, duration: Double, start: Double? = nil, collector: OutcomeCollector = OutcomeCollector()
    ) async -> Sent {
        let start = start ?? Monotonic.now()
        let end = start + duration
        if Monotonic.now() < start { try? await Task.sleep(for: .microseconds(Int64((start - Monotonic.now()) * 1e6))) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while Monotonic.now() < end && !Task.isCancelled {
                        let outcome = await batcher.submit(scheduled: Monotonic.now())
                        await collector.add(outcome)
                        if outcome.status == .rejected { try? await Task.sleep(for: .milliseconds(1)) }
                    }
                }
            }
        }
        let sent = Task.isCancelled ? min(duration, max(Monotonic.now() - start, 0)) : duration
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
