import Foundation
import Testing

@testable import InferbenchCore

/// A worker channel whose pipelined `infer` replies the test writes by hand, in any order;
/// every other request (hello, load, the warm-up infers) is answered at once.
actor HeldChannel: WorkerChannel {
    /// Pipelined requests sent and not answered: id → batch size.
    private(set) var held: [Int: Int] = [:]
    private var lines: [String] = []
    private var reader: CheckedContinuation<String?, Never>?
    private var dead = false

    func exchange(_ line: String, timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        if dead { throw .exited(status: "killed by SIGKILL", stderrTail: "") }
        let (id, op, _) = Self.parse(line)
        switch op {
        case "hello": return try FakeChannel.ok(id, FakeChannel.hello).get()
        case "load": return try FakeChannel.ok(id, FakeChannel.load).get()
        case "infer": return try FakeChannel.ok(id, #"{"device_ns": null, "host_ns": 1000}"#).get()
        default: return try FakeChannel.ok(id, "{}").get()
        }
    }

    func send(_ line: String) async throws(WorkerFailure) {
        if dead { throw .exited(status: "killed by SIGKILL", stderrTail: "") }
        let (id, _, batch) = Self.parse(line)
        held[id] = batch
    }

    func receive(timeout: Duration, operation: String) async throws(WorkerFailure) -> String {
        if !lines.isEmpty { return lines.removeFirst() }
        if dead { throw .exited(status: "killed by SIGKILL", stderrTail: "") }
        let line = await withCheckedContinuation { reader = $0 }
        guard let line else { throw .exited(status: "killed by SIGKILL", stderrTail: "") }
        return line
    }

    /// Answers pipelined request `id`, reporting its batch size as `host_ns`.
    func answer(_ id: Int) {
        guard let batch = held.removeValue(forKey: id) else { return }
        push(#"{"id": \#(id), "ok": true, "result": {"device_ns": 7, "host_ns": \#(batch)}}"#)
    }

    /// The worker process dies: what is held is never answered.
    func die() {
        dead = true
        held = [:]
        if let reader {
            self.reader = nil
            reader.resume(returning: nil)
        }
    }

    private func push(_ line: String) {
        if let reader {
            self.reader = nil
            reader.resume(returning: line)
        } else {
            lines.append(line)
        }
    }

    func close(grace: Duration) async { die() }
    func kill() async { die() }
    var processID: Int32? { nil }

    static func parse(_ line: String) -> (Int, String, Int) {
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        let args = object["args"] as? [String: Any] ?? [:]
        return (object["id"] as? Int ?? 0, object["op"] as? String ?? "?", args["batch_size"] as? Int ?? 0)
    }
}

/// Starts workers on held channels and keeps each channel for the test.
final class HeldStarter: WorkerStarter, @unchecked Sendable {
    private let lock = NSLock()
    private var made: [HeldChannel] = []

    var channels: [HeldChannel] { lock.withLock { made } }

    func start(label: String) async throws(InferbenchError) -> (Worker, HelloResult) {
        let channel = HeldChannel()
        lock.withLock { made.append(channel) }
        let worker = Worker(channel: channel)
        do { return (worker, try await worker.hello()) } catch { throw .worker("\(error)") }
    }
}

@Suite struct PipelinedWorkerTests {
    static let load = LoadArgs(
        model: "synthetic", params: [:], device: "cpu", precision: "fp32", compile: "eager", batchSize: 4, seed: 0, channelsLast: false,
        fullgraph: false, dynamic: nil)

    @Test func repliesThatComeBackOutOfOrderReachTheirOwnCalls() async throws {
        let channel = HeldChannel()
        let worker = Worker(channel: channel)
        _ = try await worker.hello()
        async let first = worker.infer(batchSize: 3, inFlight: 2)
        async let second = worker.infer(batchSize: 5, inFlight: 2)
        await settle("both sent before either is answered") { await channel.held.count == 2 }
        let ids = await channel.held.sorted { $0.value < $1.value }.map(\.key)
        await channel.answer(ids[1])  // the batch of 5 finishes first
        await channel.answer(ids[0])
        let (a, b) = try await (first, second)
        #expect(a.hostNS == 3 && b.hostNS == 5 && a.deviceNS == 7)
        // A request after them is an ordinary exchange again.
        #expect(try await worker.infer(batchSize: 1).hostNS == 1000)
    }

    @Test func aWorkerThatDiesFailsEveryCallInFlightWithTheSameFailure() async throws {
        let channel = HeldChannel()
        let worker = Worker(channel: channel)
        _ = try await worker.hello()
        async let first = Self.error(of: worker, batch: 1)
        async let second = Self.error(of: worker, batch: 2)
        await settle("both sent") { await channel.held.count == 2 }
        await channel.die()
        let dead = WorkerError.failure(.exited(status: "killed by SIGKILL", stderrTail: ""))
        #expect(await first == dead)
        #expect(await second == dead)
        #expect(await Self.error(of: worker, batch: 1) == dead)
    }

    /// What a pipelined call threw (nil when it returned).
    static func error(of worker: Worker, batch: Int) async -> WorkerError? {
        do throws(WorkerError) {
            _ = try await worker.infer(batchSize: batch, inFlight: 2)
            return nil
        } catch {
            return error
        }
    }

    @Test func theBatcherKeepsAsManyBatchesAtAReplicaAsItHasSlots() async throws {
        let starter = HeldStarter()
        let replica = WorkerReplica(label: "r", starter: starter, load: Self.load, warmSizes: [1], inFlight: 2)
        _ = try await replica.start()
        let channel = try #require(starter.channels.first)
        let batcher = DynamicBatcher(workers: [replica], maxBatch: 1, maxDelay: 0)
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { outcomes.add(await batcher.submit(scheduled: 0)) } }
            await settle("two batches at the worker, one queued") {
                await channel.held.count == 2 ? await batcher.queueDepth == 1 : false
            }
            #expect(await batcher.batchesInFlight == 2)
            // The later batch finishing first frees a slot: the queued one goes at once.
            let ids = await channel.held.keys.sorted()
            await channel.answer(ids[1])
            await settle("the third sent") { await channel.held.count == 2 ? await batcher.queueDepth == 0 : false }
            for id in await channel.held.keys.sorted() { await channel.answer(id) }
        }
        #expect(outcomes.all.count == 3 && outcomes.all.allSatisfy { $0.status == .ok })
        await batcher.shutdown()
        await replica.shutdown()
    }

    @Test func aDeathWithTwoBatchesInFlightFailsBothRestartsOnceAndServingGoesOn() async throws {
        let starter = HeldStarter()
        let replica = WorkerReplica(label: "r", starter: starter, load: Self.load, warmSizes: [1], inFlight: 2)
        _ = try await replica.start()
        let first = try #require(starter.channels.first)
        let batcher = DynamicBatcher(workers: [replica], maxBatch: 1, maxDelay: 0)
        let outcomes = Outcomes()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 { group.addTask { outcomes.add(await batcher.submit(scheduled: 0)) } }
            await settle("two batches in flight") { await first.held.count == 2 }
            await first.die()
            await settle("both failed") { outcomes.count == 2 }
        }
        #expect(outcomes.all.map(\.status) == [.failed, .failed])
        #expect(await batcher.restarts == 1)
        #expect(await batcher.workerDeaths.count == 1)
        #expect(starter.channels.count == 2)
        // The restarted worker serves, with both slots back.
        let second = starter.channels[1]
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 { group.addTask { outcomes.add(await batcher.submit(scheduled: 0)) } }
            await settle("two batches at the new worker") { await second.held.count == 2 }
            for id in await second.held.keys.sorted() { await second.answer(id) }
        }
        #expect(outcomes.all.map(\.status) == [.failed, .failed, .ok, .ok])
        await batcher.shutdown()
        await replica.shutdown()
    }

    @Test func slotsAreSpreadOverTheWorkersBeforeTheyStack() {
        let workers: [any BatchWorker] = [SlotWorker(slots: 2), SlotWorker(slots: 1), SlotWorker(slots: 3)]
        #expect(DynamicBatcher.slotOrder(workers) == [0, 1, 2, 0, 2, 2])
        #expect(DynamicBatcher.slotOrder([FakeBatchWorker()]) == [0])
    }
}

/// A worker that only says how many slots it has.
struct SlotWorker: BatchWorker {
    let slots: Int
    var label: String { "slots-\(slots)" }
    func infer(batchSize: Int, length: Int?) async throws(WorkerError) -> InferResult { InferResult(deviceNS: nil, hostNS: 1) }
    func restart() async -> Bool { true }
}
