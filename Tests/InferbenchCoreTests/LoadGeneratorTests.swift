import Foundation
import Testing

@testable import InferbenchCore

/// The generator on a hand-moved clock: the test decides how late each request goes out.
@Suite struct LoadGeneratorTests {
    @Test func requestsSentOverOneMillisecondAfterTheirDueTimeAreLate() async {
        let clock = ManualClock()
        let batcher = DynamicBatcher(workers: [FakeBatchWorker()], maxBatch: 1, maxDelay: 0, clock: clock)
        let collector = OutcomeCollector()
        let start = 1000.0
        let offsets = [0, 0.010, 0.020, 0.030, 0.035, 0.050]
        func due(_ i: Int) -> Double { start + offsets[i] }
        // How late the clock lets each request go out; request 4 is already overdue when 3 goes.
        let lateness: [Int: Double] = [1: 0.0009, 2: 0.0011, 3: 0.010, 5: 0]
        async let sent = LoadGenerator.openLoop(batcher, offsets: offsets, duration: 0.06, start: start, collector: collector, clock: clock)
        for i in [1, 2, 3, 5] {
            // Parked just short of request i's due time (it spins the last 0.1 ms), with
            // every earlier request done.
            await settle("generator waits for request \(i)") { clock.deadlines == [due(i) - 0.0001] }
            await settle("requests before \(i) done") { collector.outcomes.count == (i == 5 ? 5 : i) }
            clock.advance(to: due(i) + lateness[i]!)
        }
        let result = await sent
        #expect(result.late == 3)
        #expect(result.duration == 0.06)
        #expect(result.start == start)
        let outcomes = result.outcomes.sorted { $0.scheduled < $1.scheduled }
        #expect(outcomes.map(\.scheduled) == offsets.indices.map(due))
        #expect(outcomes.allSatisfy { $0.status == .ok })
        // Latency counts from the due time, so a late send shows in it.
        let latencies = outcomes.map { $0.completed - $0.scheduled }
        for (latency, expected) in zip(latencies, [0, 0.0009, 0.0011, 0.010, 0.005, 0]) {
            #expect(abs(latency - expected) < 1e-9)
        }
    }

    @Test func earlyStopEndsAFailingStepAtTheFirstCheck() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker()
        await worker.fail(with: .reply(WorkerErrorPayload(kind: .oom, message: "out of memory")))
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 1, maxDelay: 0, clock: clock)
        let collector = OutcomeCollector()
        let start = 1000.0
        let offsets = (0..<500).map { Double($0) * 0.001 }
        let rule = SLASearch(slaP99MS: 10).earlyStop(planned: offsets.count)
        #expect(rule.allowed == 0)
        let done = Flag()
        let result = await withTaskGroup(of: LoadGenerator.Sent?.self) { group in
            group.addTask {
                let sent = await LoadGenerator.openLoop(
                    batcher, offsets: offsets, duration: 0.5, start: start, collector: collector, earlyStop: rule, clock: clock)
                done.raise()
                return sent
            }
            group.addTask {
                for i in 1..<offsets.count {
                    let deadline = start + offsets[i] - 0.0001
                    await settle("generator waits for request \(i) or stops") { done.isRaised || clock.deadlines == [deadline] }
                    if done.isRaised { break }
                    await settle("requests before \(i) done") { collector.outcomes.count == i }
                    clock.advance(to: start + offsets[i])
                }
                return nil
            }
            var sent: LoadGenerator.Sent?
            for await case let s? in group { sent = s }
            return sent
        }
        // Every request fails, so the check after request 100 finds more misses than the rule
        // allows of 500 (none: 500 requests pass only with none over the SLA).
        #expect(result?.outcomes.count == 100)
        #expect(result?.outcomes.allSatisfy { $0.status == .failed } == true)
        #expect(abs((result?.duration ?? 0) - 0.099) < 1e-9)
        #expect(await worker.sizes.count == 100)
    }

    @Test func aStepWithinTheSLARunsToTheEnd() async {
        let clock = ManualClock()
        let batcher = DynamicBatcher(workers: [FakeBatchWorker()], maxBatch: 1, maxDelay: 0, clock: clock)
        let collector = OutcomeCollector()
        let start = 1000.0
        // All due at once: no sleeping, and every check finds nothing over the SLA.
        let offsets = [Double](repeating: 0, count: 500)
        let rule = SLASearch(slaP99MS: 10).earlyStop(planned: offsets.count)
        let result = await LoadGenerator.openLoop(
            batcher, offsets: offsets, duration: 1, start: start, collector: collector, earlyStop: rule, clock: clock)
        #expect(result.outcomes.count == 500)
        #expect(result.late == 0)
        #expect(result.duration == 1)
    }

    @Test func aTimingLoopThatFallsBehindCountsTheRequestsItSendsLate() async {
        let clock = ManualClock()
        let batcher = DynamicBatcher(workers: [FakeBatchWorker()], maxBatch: 1, maxDelay: 0, clock: clock)
        let collector = OutcomeCollector()
        let start = 1000.0
        let offsets = (0..<10).map { Double($0) * 0.001 }
        async let sent = LoadGenerator.openLoop(batcher, offsets: offsets, duration: 0.01, start: start, collector: collector, clock: clock)
        // Request 0 goes at once; the loop then parks for request 1 and wakes 8.5 ms after it
        // was due, as a descheduled thread would: requests 1 to 9 are all overdue by then.
        await settle("generator waits for request 1") { clock.deadlines == [start + 0.001 - LoadGenerator.spinLead] }
        await settle("request 0 done") { collector.outcomes.count == 1 }
        clock.advance(to: start + 0.0095)
        let result = await sent
        // Overdue by 8.5, 7.5 … 1.5 ms (requests 1–8) is late; by 0.5 ms (request 9) is not.
        #expect(result.late == 8)
        #expect(result.outcomes.count == 10 && result.outcomes.allSatisfy { $0.status == .ok })
        // Their latency still counts from the due time.
        let worst = result.outcomes.map { $0.completed - $0.scheduled }.max() ?? 0
        #expect(abs(worst - 0.0085) < 1e-9)
    }

    /// Each completion used to search a list of every request sent (task-group children never
    /// drained): fifty thousand took minutes. The figures are counts; a regression hangs here.
    @Test func fiftyThousandRequestsAgainstAnInstantBatcherAllComplete() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker(hostNS: 0)
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 256, maxDelay: 0, maxQueue: 100_000, clock: clock)
        let offsets = [Double](repeating: 0, count: 50_000)
        let result = await LoadGenerator.openLoop(batcher, offsets: offsets, duration: 1, start: 1000, clock: clock)
        #expect(result.outcomes.count == 50_000)
        #expect(result.outcomes.allSatisfy { $0.status == .ok })
        #expect(result.late == 0)
        #expect(await batcher.rejected == 0)
        #expect(await batcher.queueDepth == 0)
    }
}
