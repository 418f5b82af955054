import Foundation
import Testing

@testable import InferbenchCore

/// The batcher on a hand-moved clock with fake workers: nothing here waits on real time.
@Suite struct DynamicBatcherTests {
    @Test func batchesFillUpToMaxBatchAndTheRemainderWaitsForMaxDelay() async throws {
        let clock = ManualClock()
        let worker = FakeBatchWorker(holding: true)
        let buckets = try BatchBuckets([1, 4], maxBatch: 4)
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 4, maxDelay: 0.010, buckets: buckets, clock: clock)
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<9 { group.addTask { outcomes.add(await batcher.submit(scheduled: clock.seconds())) } }
            // Four fill the first batch at once; the other five queue behind the busy worker.
            await settle("first batch sent, five queued") { await worker.waiting == 1 ? await batcher.queueDepth == 5 : false }
            #expect(await worker.sizes == [4])
            await worker.release()
            // A full batch of the five leaves as soon as the worker is free.
            await settle("second batch sent") { await worker.waiting == 1 ? await batcher.queueDepth == 1 : false }
            #expect(await worker.sizes == [4, 4])
            await worker.release()
            // The last one waits for max-delay from its enqueue time: a timer is armed.
            await settle("timer armed for the last request") { clock.deadlines == [1000 + 0.010] }
            #expect(await worker.sizes == [4, 4])
            clock.advance(to: 1000 + 0.010)
            await settle("last batch sent") { await worker.waiting == 1 }
            await worker.release()
        }
        #expect(await worker.sizes == [4, 4, 1])
        let all = outcomes.all
        #expect(all.count == 9)
        #expect(all.allSatisfy { $0.status == .ok })
        #expect(all.map(\.batchSize).sorted() == [1, 4, 4, 4, 4, 4, 4, 4, 4])
        #expect(all.filter { $0.batchSize == 1 }.map(\.dispatched) == [1000 + 0.010])
    }

    /// Buckets 1,8,16: five requests fill no bucket above one, so they wait out max-delay from
    /// the oldest one's arrival, and run padded to 8, not to --max-batch.
    @Test func aPartialBatchLeavesAtMaxDelayAndNotBeforePaddedToTheNextBucket() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker(hostNS: 2_000_000)
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 16, maxDelay: 0.005, clock: clock)
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { outcomes.add(await batcher.submit(scheduled: 999.999)) } }
            await settle("three queued, timer armed") { await batcher.queueDepth == 3 ? clock.deadlines == [1000 + 0.005] : false }
            clock.advance(to: 1000.004)
            // Two more arrive 1 ms before the oldest is due: five fill no bucket, so they still wait.
            for _ in 0..<2 { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000.004)) } }
            await settle("five queued") { await batcher.queueDepth == 5 }
            #expect(await worker.sizes == [])
            #expect(outcomes.count == 0)
            #expect(clock.deadlines == [1000 + 0.005])
            clock.advance(to: 1000 + 0.005)
            await settle("batch sent at max-delay") { outcomes.count == 5 }
        }
        #expect(await batcher.queueDepth == 0)
        #expect(await worker.sizes == [8])
        #expect(outcomes.all.map(\.scheduled).sorted() == [999.999, 999.999, 999.999, 1000.004, 1000.004])
        for outcome in outcomes.all {
            #expect(outcome.status == .ok)
            #expect(outcome.dispatched == 1000 + 0.005)
            #expect(outcome.completed == 1000 + 0.005)
            #expect(outcome.batchSize == 5)
            #expect(outcome.paddedBatchSize == 8)
            #expect(outcome.computeNS == 2_000_000)
        }
    }

    @Test func requestsBeyondMaxQueueAreRejectedAndCounted() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker(holding: true)
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 2, maxDelay: 1, maxQueue: 3, clock: clock)
        let outcomes = Outcomes()
        var turnedAway: [RequestOutcome] = []
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000)) } }
            await settle("first batch at the worker") { await worker.waiting == 1 }
            for _ in 0..<3 { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000)) } }
            await settle("queue full") { await batcher.queueDepth == 3 }
            for _ in 0..<2 { turnedAway.append(await batcher.submit(scheduled: 1000)) }
            #expect(await batcher.queueDepth == 3)
            // Shutting down fails what is queued and waits for the batch at the worker.
            async let stopped: Void = batcher.shutdown()
            await settle("queue failed") { await batcher.queueDepth == 0 ? outcomes.count == 3 : false }
            #expect(await batcher.batchesInFlight == 1)
            await worker.release()
            await stopped
            #expect(await batcher.batchesInFlight == 0)
        }
        #expect(turnedAway.map(\.status) == [.rejected, .rejected])
        #expect(turnedAway.map(\.paddedBatchSize) == [0, 0])
        #expect(await batcher.rejected == 2)
        #expect(await worker.sizes == [2])
        let statuses = outcomes.all.map(\.status)
        #expect(statuses.filter { $0 == .ok }.count == 2)
        #expect(statuses.filter { $0 == .failed }.count == 3)
        // After shutdown everything is turned away.
        #expect(await batcher.submit(scheduled: 1000).status == .rejected)
        #expect(await batcher.rejected == 3)
        #expect(clock.deadlines == [])
    }

    /// Buckets 1,8,16,24,32: a free worker takes a full bucket the moment the queue fills it,
    /// with max-delay (10 ms) far off; a busy worker, once free, takes the largest bucket the
    /// queue fills, and what is left waits for max-delay.
    @Test func aFullBucketLeavesAtOnceWhenAWorkerIsFree() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker(holding: true)
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 32, maxDelay: 0.010, clock: clock)
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<7 { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000)) } }
            await settle("seven queued, waiting for max-delay") { await batcher.queueDepth == 7 ? clock.deadlines == [1000 + 0.010] : false }
            #expect(await worker.sizes == [])
            // The eighth fills the bucket of 8: it leaves without the clock moving.
            group.addTask { outcomes.add(await batcher.submit(scheduled: 1000)) }
            await settle("bucket of 8 sent") { await worker.waiting == 1 }
            #expect(await worker.sizes == [8])
            #expect(await batcher.queueDepth == 0)
            // Nineteen queue behind the busy worker; free, it takes 16 of them at once.
            for _ in 0..<19 { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000)) } }
            await settle("nineteen queued") { await batcher.queueDepth == 19 }
            #expect(await worker.sizes == [8])
            await worker.release()
            await settle("bucket of 16 sent") { await worker.waiting == 1 ? await batcher.queueDepth == 3 : false }
            #expect(await worker.sizes == [8, 16])
            await worker.release()
            // Three fill no bucket above one: they leave at max-delay, padded to 8.
            await settle("three wait") { outcomes.count == 24 }
            #expect(await worker.sizes == [8, 16])
            clock.advance(to: 1000 + 0.010)
            await settle("the three sent") { await worker.waiting == 1 }
            await worker.release()
        }
        #expect(await worker.sizes == [8, 16, 8])
        let all = outcomes.all
        #expect(all.count == 27 && all.allSatisfy { $0.status == .ok })
        #expect(all.filter { $0.dispatched == 1000 }.map(\.batchSize).sorted() == Array(repeating: 8, count: 8) + Array(repeating: 16, count: 16))
        let last = all.filter { $0.batchSize == 3 }
        #expect(last.count == 3 && last.allSatisfy { $0.dispatched == 1000 + 0.010 && $0.paddedBatchSize == 8 })
    }

    /// Padded samples ÷ real samples over the batches a known pattern forms, buckets 1,8,16:
    /// a full 8 (no padding), 3 at max-delay (run as 8), 1 at max-delay (run as 1): 17 ÷ 12.
    /// Each round is awaited rather than polled for, so that a busy test host cannot starve it.
    @Test(.timeLimit(.minutes(1))) func paddingWasteIsPaddedOverRealSamples() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker()
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 16, maxDelay: 0.005, clock: clock)
        // A full bucket leaves without the clock moving.
        var outcomes = await Self.submit(8, to: batcher, at: clock.seconds())
        for count in [3, 1] {
            let due = clock.seconds() + 0.005
            async let served = Self.submit(count, to: batcher, at: clock.seconds())
            await settle("\(count) waiting") { await batcher.queueDepth == count ? clock.deadlines.contains(due) : false }
            clock.advance(to: due)
            outcomes += await served
        }
        #expect(await worker.sizes == [8, 8, 1])
        let sent = LoadGenerator.Sent(outcomes: outcomes, late: 0, start: 1000, duration: 0.01)
        let step = LoadSummary.summarize(sent, scenario: "pattern", targetQPS: nil, concurrency: nil, window: 0)
        #expect(abs(step.paddingWaste! - 17.0 / 12) < 1e-12)
        #expect(abs(step.meanBatchSizePerBatch! - 4) < 1e-12)
    }

    /// With --seq-len and --pad-to 64: requests batch only with others of their padded length,
    /// the worker is asked for that length, and the padding waste counts tokens. Four of 10
    /// tokens run as 4×64; then 100, 70, 128, 65 fill bucket 4 at 128 and leave before the one
    /// of 20, which waits out max-delay alone (1×64): 832 tokens run for 423 real ones.
    @Test(.timeLimit(.minutes(1))) func requestsBatchOnlyWithTheirPaddedLengthAndWasteCountsTokens() async throws {
        let clock = ManualClock()
        let worker = FakeBatchWorker(holding: true)
        let plan = LengthPlan(lengths: SequenceLengths(.uniform(1, 256)), padding: .multiple(64))
        let buckets = try BatchBuckets([1, 4], maxBatch: 4)
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 4, maxDelay: 0.005, buckets: buckets, lengths: plan, clock: clock)
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000, length: 10)) } }
            await settle("first batch at the worker") { await worker.waiting == 1 }
            for length in [20, 100, 70, 128, 65] { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000, length: length)) } }
            await settle("five queued") { await batcher.queueDepth == 5 }
            await worker.release()
            await settle("the four at 128 sent") { await worker.waiting == 1 ? await batcher.queueDepth == 1 : false }
            await worker.release()
            await settle("timer armed for the one at 64") { clock.deadlines == [1000 + 0.005] }
            clock.advance(to: 1000 + 0.005)
            await settle("last batch sent") { await worker.waiting == 1 }
            await worker.release()
        }
        #expect(await worker.sizes == [4, 4, 1])
        #expect(await worker.lengths == [64, 128, 64])
        for o in outcomes.all { #expect(o.paddedLength == plan.padded(o.length!)) }
        let sent = LoadGenerator.Sent(outcomes: outcomes.all, late: 0, start: 1000, duration: 0.01)
        let step = LoadSummary.summarize(sent, scenario: "lengths", targetQPS: nil, concurrency: nil, window: 0)
        #expect(abs(step.paddingWaste! - 832.0 / 423) < 1e-12)
        #expect(step.lengths?.maxTokens == 128)
        #expect(abs(step.lengths!.meanTokens - 423.0 / 9) < 1e-12)
    }

    /// A worker tells of recompiles once per call: the step counts them once per batch, not
    /// once per request, and names their reasons.
    @Test(.timeLimit(.minutes(1))) func recompilesAreCountedOncePerBatchWithTheirReasons() async throws {
        let clock = ManualClock()
        let worker = FakeBatchWorker()
        await worker.tellRecompiles(2, reasons: ["size mismatch at index 1", "tensor L['x'] rank"])
        let buckets = try BatchBuckets([1, 4], maxBatch: 4)
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 4, maxDelay: 0.005, buckets: buckets, clock: clock)
        let outcomes = await Self.submit(8, to: batcher, at: clock.seconds())
        #expect(await worker.sizes == [4, 4])
        #expect(outcomes.map(\.recompiles).reduce(0, +) == 4)
        let sent = LoadGenerator.Sent(outcomes: outcomes, late: 0, start: 1000, duration: 0.01)
        let step = LoadSummary.summarize(sent, scenario: "recompiles", targetQPS: nil, concurrency: nil, window: 0.01)
        #expect(step.recompiles == 4)
        #expect(step.recompileReasons == ["size mismatch at index 1", "tensor L['x'] rank"])
        #expect(step.windows.map(\.recompiles).reduce(0) { $0 + ($1 ?? 0) } == 4)
    }

    /// Sends `count` requests due at `time` at once and returns their outcomes.
    static func submit(_ count: Int, to batcher: DynamicBatcher, at time: Double) async -> [RequestOutcome] {
        await withTaskGroup(of: RequestOutcome.self) { group in
            for _ in 0..<count { group.addTask { await batcher.submit(scheduled: time) } }
            var all: [RequestOutcome] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
    }

    @Test func aPartialBatchRunsAtItsPaddedSize() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker()
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 12, maxDelay: 0.002, clock: clock)
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { outcomes.add(await batcher.submit(scheduled: 1000)) } }
            await settle("five queued") { await batcher.queueDepth == 5 ? clock.deadlines == [1000 + 0.002] : false }
            clock.advance(to: 1000 + 0.002)
            await settle("batch done") { outcomes.count == 5 }
        }
        #expect(await worker.sizes == [8])
        #expect(outcomes.all.map(\.paddedBatchSize) == [8, 8, 8, 8, 8])
        #expect(outcomes.all.map(\.batchSize) == [5, 5, 5, 5, 5])
    }

    @Test func aWorkerThatDiesFailsItsBatchAndIsRestarted() async {
        let clock = ManualClock()
        let worker = FakeBatchWorker(label: "w0")
        await worker.fail(with: .failure(.exited(status: "signal 9", stderrTail: "")))
        let batcher = DynamicBatcher(workers: [worker], maxBatch: 2, maxDelay: 1, clock: clock)
        async let a = batcher.submit(scheduled: 1000)
        async let b = batcher.submit(scheduled: 1000)
        let failed = await [a, b]
        #expect(failed.map(\.status) == [.failed, .failed])
        #expect(await worker.restarts == 1)
        #expect(await batcher.restarts == 1)
        #expect(await batcher.workerDeaths.count == 1)
        #expect(await batcher.workerDeaths.first?.hasPrefix("w0: ") == true)
        await worker.fail(with: nil)
        async let c = batcher.submit(scheduled: 1000)
        async let d = batcher.submit(scheduled: 1000)
        #expect(await [c, d].map(\.status) == [.ok, .ok])
        #expect(await worker.sizes == [2, 2])
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var out: [T] = []
        for element in self { out.append(await transform(element)) }
        return out
    }
}
