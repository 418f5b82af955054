import Foundation
import Synchronization

/// What `inferbench serve` serves once its workers are warm: the model as the protocol
/// describes it and the batcher in front of the workers.
struct Serving: Sendable {
    let model: OIPModelMetadata
    let batcher: DynamicBatcher
}

/// The server's state, with one owner: whether it serves yet, and the sums behind the
/// statistics extension (`GET /v2/models/NAME/stats`, Triton's format), so that a client such
/// as `load --target` can split its latency into the server's part and the rest.
final class ServeState: Sendable {
    struct Sums: Sendable {
        var success = 0
        var successNS: Double = 0
        var fail = 0
        var failNS: Double = 0
        var queueNS: Double = 0
        var inputNS: Double = 0
        var inferNS: Double = 0
        var outputNS: Double = 0
        var batches: Double = 0
    }

    private let inner = Mutex<(serving: Serving?, sums: Sums)>((nil, Sums()))

    var serving: Serving? { inner.withLock { $0.serving } }
    func serve(_ serving: Serving) { inner.withLock { $0.serving = serving } }
    var sums: Sums { inner.withLock { $0.sums } }

    /// Adds one answered request: from its arrival to its answer, and where that time went.
    func record(_ outcome: RequestOutcome, arrived: Double, answered: Double) {
        let total = (answered - arrived) * 1e9
        inner.withLock { s in
            guard outcome.status == .ok else {
                s.sums.fail += 1
                s.sums.failNS += total
                return
            }
            s.sums.success += 1
            s.sums.successNS += total
            s.sums.queueNS += max(0, ((outcome.dispatched ?? arrived) - arrived) * 1e9)
            s.sums.inputNS += Double(outcome.h2dNS ?? 0)
            s.sums.inferNS += Double(outcome.computeNS ?? 0)
            s.sums.outputNS += Double(outcome.d2hNS ?? 0)
            // A request of a batch of b is 1/b of that batch: summed, each batch counts once.
            if outcome.batchSize > 0 { s.sums.batches += 1 / Double(outcome.batchSize) }
        }
    }

    /// The statistics extension's body for `model`.
    func statistics(model: String) -> [String: Any] {
        let s = sums
        func part(_ count: Int, _ ns: Double) -> [String: Any] { ["count": count, "ns": Int64(ns)] }
        let stats: [String: Any] = [
            "success": part(s.success, s.successNS), "fail": part(s.fail, s.failNS), "queue": part(s.success, s.queueNS),
            "compute_input": part(s.success, s.inputNS), "compute_infer": part(s.success, s.inferNS), "compute_output": part(s.success, s.outputNS),
        ]
        let entry: [String: Any] = [
            "name": model, "version": "1", "inference_count": s.success, "execution_count": Int(s.batches.rounded()), "inference_stats": stats,
        ]
        return ["model_stats": [entry]]
    }
}
