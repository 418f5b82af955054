import Foundation
import Testing

@testable import InferbenchCore

/// Per-window figures of a load step: placed on the telemetry clock, offered by due time,
/// achieved by completion time, the same whether computed as the step runs or at its end.
@Suite struct LoadSummaryTests {
    /// Ten requests a second due from t = 50 s for 3 s; each completes 20 ms after it is due,
    /// except that those due in the second second wait until 52.5 s (a stall).
    static func sent() -> LoadGenerator.Sent {
        let outcomes = (0..<30).map { i -> RequestOutcome in
            let due = 50 + Double(i) / 10
            let done = due >= 51 && due < 52 ? 52.5 : due + 0.02
            return RequestOutcome(status: .ok, scheduled: due, dispatched: due, completed: done, batchSize: 1, paddedBatchSize: 1)
        }
        return LoadGenerator.Sent(outcomes: outcomes, late: 0, start: 50, duration: 3)
    }

    @Test func windowsSeparateOfferedFromAchieved() {
        let step = LoadSummary.summarize(Self.sent(), scenario: "constant 10 qps", targetQPS: 10, concurrency: nil, window: 1)
        let ws = step.windows
        #expect(ws.map(\.start) == [50, 51, 52] && ws.map(\.end) == [51, 52, 53])
        #expect(ws.map(\.offeredQPS) == [10, 10, 10])
        // The stalled second completes nothing; the third completes its own ten and the stalled ten.
        #expect(ws.map(\.qps) == [10, 0, 20])
        #expect(ws[1].p99 == nil && ws[2].p99! > 500)
        #expect(step.phaseStart == 50 && step.phaseEnd == 53)
    }

    @Test func theLastWindowCountsACompletionAtItsEnd() {
        var sent = Self.sent()
        sent.outcomes.append(RequestOutcome(status: .ok, scheduled: 52.9, completed: 53.5, batchSize: 1, paddedBatchSize: 1))
        let step = LoadSummary.summarize(sent, scenario: "s", targetQPS: 10, concurrency: nil, window: 1)
        // The drain runs to the last completion, 53.5 s, which falls in the last window, not after it.
        #expect(step.windows.last?.end == 53.5)
        #expect(step.windows.reduce(0) { $0 + Int(($1.qps * $1.seconds).rounded()) } == 31)
    }

    @Test func aWindowReadWhileRunningMatchesTheFinalOne() {
        let sent = Self.sent()
        let final = LoadSummary.summarize(sent, scenario: "s", targetQPS: 10, concurrency: nil, window: 1).windows[0]
        let known = sent.outcomes.filter { $0.completed < 51 }
        let live = LoadSummary.window(from: 50, to: 51, stepStart: 50, completed: known, offered: 10, telemetry: nil)
        #expect(live == final)
    }
}
