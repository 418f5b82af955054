import Foundation

/// What a load test served and how: the `load` object of results.json.
///
/// Written when the test starts; `offline_throughput_per_s` (with `offline`), `best_qps`,
/// `capacity` and `batching_efficiency` are added as they are measured, so a test killed
/// half-way still says what it was testing.
public struct LoadInfo: Codable, Sendable, Equatable {
    /// The model as given (`resnet50`, `synthetic:median_ms=5`).
    public var model: String
    /// The served variant; its batch size is the batcher's largest batch. Absent with
    /// `--target`: the server chose how it runs the model.
    public var variant: Variant?
    /// `--target`: the server the requests went to; absent for inferbench's own workers.
    public var target: TargetInfo?
    /// Model replicas serving behind the batcher, all GPUs together.
    public var workers: Int
    public var maxBatch: Int
    /// The batch sizes the workers warmed and batches were padded up to (`--batch-buckets`);
    /// absent in results written before buckets, when they were the powers of two.
    public var batchBuckets: [Int]?
    public var maxDelayMS: Double
    public var maxQueue: Int
    /// Batches each worker runs at once (`--in-flight`); absent in results from before it existed,
    /// which ran one at a time.
    public var inFlight: Int?
    /// `--payload`: where the batches' inputs came from; absent in results from before it
    /// existed, whose inputs were made on the device (`device`).
    public var payload: PayloadMode?
    /// With `host`: whether the worker's ring was page-locked (pinned) memory, so that copies
    /// to the device were DMA; false when CUDA refused to register it, nil on a CPU.
    public var payloadPinned: Bool?
    /// `--payload-file`: the .npy/.npz file the requests' inputs came from; absent: samples the
    /// model's own input factory made.
    public var payloadFile: String?
    /// `--mps`: the workers were clients of a private CUDA MPS daemon; absent without it.
    public var mps: Bool?
    /// `--seq-len` (or `--image-size`, or a trace's lengths): the requests' lengths, as given;
    /// absent with one shape.
    public var seqLen: String?
    /// What `seqLen` measures: `seq` (tokens) or `size` (image side, pixels); absent: `seq`.
    public var lengthAxis: LengthAxis?
    /// With lengths, what the offline batches ran at.
    public var offlineLengths: OfflineLengths?

    /// What the offline batches ran at, for a test with lengths: as recorded, else `loaded`
    /// (results from before offline drew lengths ran at the loaded, longest one).
    public var offlineLengthsRan: OfflineLengths? { seqLen == nil ? nil : offlineLengths ?? .loaded }
    /// `--pad-to` and the padded lengths it gives (each a shape the workers may run).
    public var padTo: String?
    public var lengthBuckets: [Int]?
    /// `--warmup-shapes` (all, none, or lengths) and the lengths it warmed at every batch bucket.
    public var warmupShapes: String?
    public var warmLengths: [Int]?
    /// Length of the per-window figures, seconds.
    public var windowS: Double
    /// The P99 bound of `--find-max-qps`.
    public var slaP99MS: Double?
    /// Back-to-back throughput at the largest batch, all replicas together (samples/s).
    public var offlineThroughputPerS: Double?
    /// The highest rate whose P99 stayed under the SLA (`--find-max-qps`); absent when none did.
    /// The same as `capacity.lower_qps`.
    public var bestQPS: Double?
    /// The offline rounds and their interval; `offline_throughput_per_s` is their estimate.
    public var offline: OfflineThroughput?
    /// `--find-max-qps`: the capacity as an interval (``Capacity``).
    public var capacity: Capacity?
    /// Capacity ÷ offline throughput, with both intervals carried through.
    public var batchingEfficiency: BatchingEfficiency?

    public init(
        model: String, variant: Variant?, workers: Int, maxBatch: Int, maxDelayMS: Double, maxQueue: Int, windowS: Double, slaP99MS: Double? = nil,
        batchBuckets: [Int]? = nil
    ) {
        self.model = model
        self.variant = variant
        self.workers = workers
        self.maxBatch = maxBatch
        self.maxDelayMS = maxDelayMS
        self.maxQueue = maxQueue
        self.windowS = windowS
        self.slaP99MS = slaP99MS
        self.batchBuckets = batchBuckets
    }

    enum CodingKeys: String, CodingKey {
        case model, variant, workers, target
        case maxBatch = "max_batch"
        case batchBuckets = "batch_buckets"
        case maxDelayMS = "max_delay_ms"
        case maxQueue = "max_queue"
        case inFlight = "in_flight"
        case payload
        case payloadPinned = "payload_pinned"
        case payloadFile = "payload_file"
        case mps
        case seqLen = "seq_len"
        case lengthAxis = "length_axis"
        case offlineLengths = "offline_lengths"
        case padTo = "pad_to"
        case lengthBuckets = "length_buckets"
        case warmupShapes = "warmup_shapes"
        case warmLengths = "warm_lengths"
        case windowS = "window_s"
        case slaP99MS = "sla_p99_ms"
        case offlineThroughputPerS = "offline_throughput_per_s"
        case bestQPS = "best_qps"
        case offline, capacity
        case batchingEfficiency = "batching_efficiency"
    }
}

/// `load --target`: the server a test's requests went to, as it described itself.
public struct TargetInfo: Codable, Sendable, Equatable {
    /// The address given (`http://127.0.0.1:8000`).
    public var url: String
    /// The protocol spoken: `oip-rest` (KServe v2 / Open Inference Protocol over HTTP).
    public var proto: String
    /// How tensors travelled: `json` or `binary` (the binary-tensor extension).
    public var encoding: OIPEncoding
    /// `GET /v2`'s name and version, when the server gives them.
    public var server: String?
    public var serverVersion: String?
    /// The model's inputs and outputs, from its metadata.
    public var inputs: [OIPTensorMetadata]
    public var outputs: [OIPTensorMetadata]
    /// Most connections open at once, and each request's timeout, seconds.
    public var connections: Int
    public var timeoutS: Double
    /// The first message of each kind of failed request (``RequestFailure``'s names).
    public var problems: [String: String]?

    public init(
        url: String, encoding: OIPEncoding, server: String?, serverVersion: String?, inputs: [OIPTensorMetadata], outputs: [OIPTensorMetadata],
        connections: Int, timeoutS: Double
    ) {
        self.url = url
        self.proto = "oip-rest"
        self.encoding = encoding
        self.server = server
        self.serverVersion = serverVersion
        self.inputs = inputs
        self.outputs = outputs
        self.connections = connections
        self.timeoutS = timeoutS
    }

    enum CodingKeys: String, CodingKey {
        case url, encoding, server, inputs, outputs, connections, problems
        case proto = "protocol"
        case serverVersion = "server_version"
        case timeoutS = "timeout_s"
    }
}
