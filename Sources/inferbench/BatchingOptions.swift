import ArgumentParser
import InferbenchCore

/// How inferbench's own workers serve batches, for `load` and `serve` alike: the dynamic
/// batcher's limits, batches in flight, and how many workers on which GPUs.
struct BatchingOptions: ParsableArguments {
    @Option(name: .long, help: "Largest batch the batcher forms.")
    var maxBatch: Int = 8
    @Option(
        name: .long,
        help:
            "Batch sizes the workers warm and batches are padded up to, increasing and ending at --max-batch, e.g. 1,8,16,24,32; a free worker takes the largest bucket above 1 the queue fills at once (default: 1 and multiples of 8 up to --max-batch, then --max-batch; below 8, powers of two)."
    )
    var batchBuckets: String?
    @Option(name: .long, help: "Longest wait for a batch to fill, in milliseconds.")
    var maxDelay: Double = 2
    @Option(name: .long, help: "Requests waiting beyond this are rejected.")
    var maxQueue: Int = 10_000
    @Option(
        name: .long,
        help:
            "Batches each worker runs at once: auto, or 1 to 8 (it launches the next while the current one runs). auto: 2 on a GPU (1 with reduce-overhead), 1 on the CPU."
    )
    var inFlight: String = "auto"
    @Option(name: .long, help: "Workers (model replicas) per GPU, or on the CPU.")
    var workers: Int = 1
    @Option(name: .long, help: "GPUs to use, one worker set per GPU, e.g. 0,1 (sets CUDA_VISIBLE_DEVICES per worker).")
    var gpus: String?

    func validate() throws {
        if maxBatch < 1 || maxBatch > 4096 { throw ValidationError("--max-batch must be between 1 and 4096") }
        if !(maxDelay >= 0 && maxDelay.isFinite) { throw ValidationError("--max-delay \(maxDelay): give milliseconds ≥ 0") }
        if maxQueue < 1 { throw ValidationError("--max-queue \(maxQueue): give at least 1 (every request would be rejected)") }
        if workers < 1 || workers > 64 { throw ValidationError("--workers must be between 1 and 64") }
        do { _ = try buckets() } catch { throw ValidationError(error.description) }
    }

    /// `--batch-buckets`, checked against `--max-batch`, or the default for it.
    func buckets() throws(InferbenchError) -> BatchBuckets {
        guard let batchBuckets else { return .defaults(maxBatch: maxBatch) }
        return try BatchBuckets(parsing: batchBuckets, maxBatch: maxBatch)
    }

    /// `--in-flight`: a number as given, or `auto`: 2 on a GPU, where the next batch's launch
    /// overlaps the current one's compute (resnet50 fp16 on an H200: closed-loop capacity 1.62×
    /// eager, 1.39× default over one at a time, docs/examples/pipelining-h200), 1 on the CPU,
    /// whose torch ops finish before the call returns. reduce-overhead is 1 whatever is asked
    /// for: a CUDA graph replays into the same static buffers, so a second batch of the same
    /// size would overwrite the first's output while it is still in flight.
    func inFlightDepth(gpu: Bool, reduceOverhead: Bool) throws(InferbenchError) -> Int {
        if inFlight.trimmingCharacters(in: .whitespaces).lowercased() == "auto" { return gpu && !reduceOverhead ? 2 : 1 }
        guard let n = Int(inFlight.trimmingCharacters(in: .whitespaces)), (1...WorkerReplica.maxInFlight).contains(n) else {
            throw .badInput("--in-flight \(inFlight): give auto or 1 to \(WorkerReplica.maxInFlight) batches per worker (1 runs one at a time)")
        }
        if n > 1 && reduceOverhead {
            throw .badInput(
                "--in-flight \(n) with --compile reduce-overhead: a CUDA graph replays into one set of output buffers, so one batch per worker runs at a time; drop --in-flight, or add --workers for overlap"
            )
        }
        return n
    }

    var gpuCount: Int { gpus.map { $0.split(separator: ",").count } ?? 1 }

    /// One replica set per GPU of --gpus, else one on the resolved device.
    func replicaSets(launcher: WorkerLauncher, hello: HelloResult, device resolved: String) throws(InferbenchError) -> [LoadTest.ReplicaSet] {
        guard let gpus else {
            return [.init(label: resolved.replacingOccurrences(of: ":", with: ""), starter: launcher, device: resolved, count: workers)]
        }
        var sets: [LoadTest.ReplicaSet] = []
        for item in gpus.split(separator: ",", omittingEmptySubsequences: false) {
            guard let g = Int(item.trimmingCharacters(in: .whitespaces)), g >= 0, g < max(hello.env.gpus.count, 1) else {
                throw .badInput("--gpus \(item): this machine has \(hello.env.gpus.count) GPU(s) visible to PyTorch")
            }
            var l = launcher
            l.extraEnvironment["CUDA_VISIBLE_DEVICES"] = String(g)
            sets.append(.init(label: "gpu\(g)", starter: l, device: "cuda:0", count: workers))
        }
        return sets
    }
}
