import Foundation
import Synchronization
import Testing

@testable import InferbenchCore

/// A clock that moves only when a test moves it. Sleepers wake, earliest first, when the
/// clock is advanced past their deadline; a cancelled sleeper throws `CancellationError`.
final class ManualClock: LoadClock {
    private struct Sleeper {
        var id: Int
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Double
        var sleepers: [Sleeper] = []
        var nextID = 0
        /// Sleepers cancelled before they were parked.
        var cancelled: Set<Int> = []
    }

    private let state: Mutex<State>

    init(now: Double = 1000) { state = Mutex(State(now: now)) }

    var now: MonotonicInstant { MonotonicInstant(seconds: state.withLock { $0.now }) }
    var minimumResolution: Duration { .nanoseconds(1) }

    /// The deadlines of the tasks asleep on this clock, earliest first.
    var deadlines: [Double] { state.withLock { $0.sleepers.map(\.deadline).sorted() } }

    func sleep(until deadline: MonotonicInstant, tolerance: Duration?) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { s in
                    if s.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline.seconds <= s.now { return .success(()) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline.seconds, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                if let i = s.sleepers.firstIndex(where: { $0.id == id }) { return s.sleepers.remove(at: i) }
                s.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock to `seconds` (never back) and wakes the sleepers whose time has come.
    func advance(to seconds: Double) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = max(s.now, seconds)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    func advance(by seconds: Double) { advance(to: self.seconds() + seconds) }
}

/// Waits until `condition` holds. The code under test runs on other tasks; a test moves the
/// clock only once they have got where it expects (parked on the clock, or on a worker).
/// Records an issue after `limit` real seconds: a bound only a hung test reaches, not a
/// timing assertion.
func settle(_ what: String, limit: Double = 30, _ condition: () async -> Bool) async {
    let giveUp = Monotonic.now() + limit
    var spins = 0
    while !(await condition()) {
        if Monotonic.now() > giveUp {
            Issue.record("still waiting after \(Int(limit)) s: \(what)")
            return
        }
        spins += 1
        if spins % 1000 == 0 { try? await Task.sleep(for: .microseconds(100)) } else { await Task.yield() }
    }
}

/// A batch worker that records the batch sizes it is asked to run. With `holding`, each call
/// waits until the test releases it; otherwise it answers at once with `hostNS` of work.
actor FakeBatchWorker: BatchWorker {
    nonisolated let label: String
    private let holding: Bool
    private let hostNS: Int64
    private var held: [CheckedContinuation<Result<InferResult, WorkerError>, Never>] = []
    private(set) var sizes: [Int] = []
    /// The length of each call, in order (nil: the loaded one).
    private(set) var lengths: [Int?] = []
    private(set) var restarts = 0
    /// What each answered call tells of recompiles (nil: none).
    var recompilesPerCall: Int?
    /// The reasons each answered call gives for them.
    var reasonsPerCall: [String]?
    /// The error every call throws, when set.
    var failure: WorkerError?

    init(label: String = "fake", holding: Bool = false, hostNS: Int64 = 1_000_000) {
        self.label = label
        self.holding = holding
        self.hostNS = hostNS
    }

    func infer(batchSize: Int, length: Int?) async throws(WorkerError) -> InferResult {
        sizes.append(batchSize)
        lengths.append(length)
        if let failure { throw failure }
        guard holding else { return InferResult(deviceNS: nil, hostNS: hostNS, recompiles: recompilesPerCall, compileReasons: reasonsPerCall) }
        let result = await withCheckedContinuation { held.append($0) }
        return try result.get()
    }

    func restart() async -> Bool {
        restarts += 1
        return true
    }

    func fail(with error: WorkerError?) { failure = error }

    func tellRecompiles(_ n: Int?, reasons: [String]? = nil) {
        recompilesPerCall = n
        reasonsPerCall = reasons
    }

    /// Calls waiting to be answered.
    var waiting: Int { held.count }

    /// Answers the oldest waiting call.
    func release() {
        held.removeFirst().resume(returning: .success(InferResult(deviceNS: nil, hostNS: hostNS)))
    }
}

/// Outcomes collected from requests sent on their own tasks, so that a test can go on
/// moving the clock while they wait.
final class Outcomes: Sendable {
    private let list = Mutex<[RequestOutcome]>([])
    var all: [RequestOutcome] { list.withLock { $0 } }
    var count: Int { list.withLock { $0.count } }
    func add(_ outcome: RequestOutcome) { list.withLock { $0.append(outcome) } }
}

/// A flag one task raises and another reads.
final class Flag: Sendable {
    private let raised = Mutex(false)
    var isRaised: Bool { raised.withLock { $0 } }
    func raise() { raised.withLock { $0 = true } }
}
