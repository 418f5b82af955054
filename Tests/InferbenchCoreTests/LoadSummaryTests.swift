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

    /// One batch of 12 and three of 1 (padded 16 and 1), and a failed batch of 4 that counts in
    /// neither: 15 requests in 4 batches is 3.75 a batch, while a request's batch averages
    /// (12 × 12 + 3 × 1) ÷ 15 = 9.8; padding 19 samples run for 15 served.
    @Test func meanBatchSizePerBatchAndPerRequestDiffer() {
        func batch(_ n: Int, padded: Int, _ status: RequestOutcome.Status = .ok) -> [RequestOutcome] {
            Array(repeating: RequestOutcome(status: status, scheduled: 50, dispatched: 50, completed: 50.01, batchSize: n, paddedBatchSize: padded), count: n)
        }
        let outcomes = batch(12, padded: 16) + batch(1, padded: 1) + batch(1, padded: 1) + batch(4, padded: 4, .failed) + batch(1, padded: 1)
        let step = LoadSummary.summarize(
            LoadGenerator.Sent(outcomes: outcomes, late: 0, start: 50, duration: 1), scenario: "s", targetQPS: nil, concurrency: nil, window: 1)
        #expect(abs(step.meanBatchSizePerBatch! - 3.75) < 1e-12)
        #expect(abs(step.meanBatchSizePerRequest! - 9.8) < 1e-12)
        #expect(abs(step.paddingWaste! - 19.0 / 15) < 1e-12)
        let json = String(decoding: try! RunResults.encoder().encode(step), as: UTF8.self)
        #expect(json.contains("\"mean_batch_size\" : 9.8") && json.contains("\"mean_batch_size_per_batch\" : 3.7"))
        // Nothing served: no figures rather than a division by zero.
        let none = LoadSummary.summarize(
            LoadGenerator.Sent(outcomes: batch(4, padded: 4, .failed), late: 0, start: 50, duration: 1), scenario: "s", targetQPS: nil,
            concurrency: nil, window: 1)
        #expect(none.meanBatchSizePerBatch == nil && none.paddingWaste == nil)
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
