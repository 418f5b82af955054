import Foundation
import Synchronization

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
        /// The server's own statistics read before and after the step (an HTTP target that
        /// keeps them); nil otherwise.
        public var server: (before: ServerStatistics, after: ServerStatistics)? = nil
    }

    /// How long before a due time the open loop stops sleeping and spins, at least: a sleep
    /// alone wakes late by tens of microseconds or more.
    public static let spinLead = 0.0001
    /// The most the lead grows to (``WakeLead``): beyond it, spinning costs more CPU than a
    /// rare late request is worth.
    public static let mostSpinLead = 0.002

    /// How late this host's timer wakes a sleeping task, learned from the loop's own sleeps: the
    /// lead is 1.25× the latest of the last 32 wake-ups, between ``spinLead`` and
    /// ``mostSpinLead``. On the 2-core development VM a 45 ms sleep woke 0.36 ms late (median),
    /// up to 1.4 ms, so a fixed 0.1 ms lead sends the first request after every pause late by
    /// about 0.3 ms, and now and then by over 1 ms.
    struct WakeLead {
        private var recent: [Double] = []
        private var next = 0
        /// Kept up to date by ``record(oversleep:)``: every request reads it, only sleeps change it.
        private(set) var lead = LoadGenerator.spinLead

        mutating func record(oversleep: Double) {
            if recent.count < 32 {
                recent.append(oversleep)
            } else {
                recent[next] = oversleep
                next = (next + 1) % 32
            }
            lead = min(LoadGenerator.mostSpinLead, max(LoadGenerator.spinLead, 1.25 * recent.max()!))
        }
    }

    /// Open loop: each request is due at `start + offset`, whatever happened to the ones
    /// before; latency runs from that due time, so a stall shows in every request it delays.
    /// `offsets` are read one at a time (a stream such as ``ArrivalSchedule/Arrivals`` holds
    /// none of them), in order. `start` (monotonic seconds, default: 10 ms from now) is when
    /// offset 0 is due; outcomes go into `collector` as they complete, so that a watcher can
    /// read them while it runs. The result's `duration` is how long requests were sent:
    /// shorter than asked when the loop stopped early or was cancelled, so that rates and
    /// windows cover only that time.
    ///
    /// Each request is handed to a task of its own, never awaited by the timing loop: a slow
    /// batcher delays completions, not the due times of later requests. A request the loop
    /// sends over ``lateThreshold`` after its due time counts as `late` (not an error).
    ///
    /// Every 100 requests the loop asks `earlyStop` whether the step has already failed (SLA
    /// early stopping), telling it only the outcomes that completed since it was last asked.
    /// `clock` is what due times are kept on; a test passes one it moves by hand.
    public static func openLoop(
        _ batcher: some RequestSink, offsets: some Sequence<Double>, lengths: [Int]? = nil, duration: Double, start: Double? = nil,
        collector: OutcomeCollector = OutcomeCollector(), earlyStop: SLASearch.EarlyStop? = nil, clock: any LoadClock = MonotonicClock()
    ) async -> Sent {
        let start = start ?? clock.seconds() + 0.01
        var late = 0
        var stopped: Double? = nil
        var earlyStop = earlyStop
        var read = 0
        var sent = 0
        let inFlight = InFlight()
        var wake = WakeLead()
        for offset in offsets {
            if Task.isCancelled {
                stopped = clock.seconds()
                break
            }
            let due = start + offset
            await wait(until: due, on: clock, wake: &wake)
            if clock.seconds() - due > lateThreshold { late += 1 }
            // A recorded trace's own length for this request, else the batcher draws one.
            send(due, length: lengths.flatMap { sent < $0.count ? $0[sent] : nil }, to: batcher, into: collector, tracked: inFlight)
            sent += 1
            guard sent % 100 == 0, var rule = earlyStop else { continue }
            let fresh = collector.outcomes(from: read)
            read += fresh.count
            rule.record(fresh)
            earlyStop = rule
            if rule.failed {
                stopped = clock.seconds()
                break
            }
        }
        await inFlight.drained()
        let duration = stopped.map { min(duration, max($0 - start, 0)) } ?? duration
        return Sent(outcomes: collector.outcomes, late: late, start: start, duration: duration)
    }

    /// Returns at `due`: sleeps until the learned lead before it (``WakeLead``), then spins,
    /// yielding, so that the other tasks on this thread still run.
    static func wait(until due: Double, on clock: any LoadClock, wake: inout WakeLead) async {
        let lead = wake.lead
        if due - clock.seconds() > 2 * lead {
            let target = due - lead
            try? await clock.sleep(untilSeconds: target)
            if clock.wakesLate { wake.record(oversleep: max(0, clock.seconds() - target)) }
        }
        while clock.seconds() < due { await Task.yield() }
    }

    /// Submits one request on a task of its own and records its outcome when it completes.
    ///
    /// An unstructured task, not a task-group child: a group keeps its children in a list
    /// that each completion searches, so that tens of thousands in flight, or completed and
    /// never awaited, make every request cost more than the last.
    static func send(_ due: Double, length: Int? = nil, to batcher: some RequestSink, into collector: OutcomeCollector, tracked inFlight: InFlight) {
        inFlight.enter()
        Task {
            let outcome = await batcher.submit(scheduled: due, length: length)
            collector.add(outcome)
            inFlight.leave()
        }
    }

    /// Closed loop: `concurrency` clients, each sending its next request when the last one
    /// returns, for `duration` seconds from `start` (default: now). A client whose request
    /// was rejected waits 1 ms before the next.
    public static func closedLoop(
        _ batcher: some RequestSink, concurrency: Int, duration: Double, start: Double? = nil, collector: OutcomeCollector = OutcomeCollector(),
        clock: any LoadClock = MonotonicClock()
    ) async -> Sent {
        let start = start ?? clock.seconds()
        let end = start + duration
        try? await clock.sleep(untilSeconds: start)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while clock.seconds() < end && !Task.isCancelled {
                        let outcome = await batcher.submit(scheduled: clock.seconds(), length: nil)
                        collector.add(outcome)
                        if outcome.status == .rejected { try? await clock.sleep(untilSeconds: clock.seconds() + 0.001) }
                    }
                }
            }
        }
        let sent = Task.isCancelled ? min(duration, max(clock.seconds() - start, 0)) : duration
        return Sent(outcomes: collector.outcomes, late: 0, start: start, duration: sent)
    }
}

/// Outcomes in the order they completed. A lock, not an actor: every request adds one, and
/// at tens of thousands a second a hop to an actor's executor per request was a visible share
/// of the generator's CPU.
public final class OutcomeCollector: Sendable {
    private let store = Mutex<[RequestOutcome]>([])
    public init() {}
    func add(_ outcome: RequestOutcome) { store.withLock { $0.append(outcome) } }
    public var outcomes: [RequestOutcome] { store.withLock { $0 } }
    /// The outcomes from `index` on: what completed since a watcher last read `index` of them.
    public func outcomes(from index: Int) -> [RequestOutcome] {
        store.withLock { index < $0.count ? Array($0[index...]) : [] }
    }
}

/// Requests the open loop has sent and not yet seen complete, so that it returns only once
/// every outcome is in the collector.
final class InFlight: Sendable {
    private struct State {
        var count = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func enter() { state.withLock { $0.count += 1 } }

    func leave() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.count -= 1
            guard s.count == 0 else { return nil }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Returns once none is in flight (at once when none is).
    func drained() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool in
                if s.count == 0 { return true }
                s.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }
}
