import Foundation
import Prometheus

/// `/metrics` of `inferbench serve`, in Prometheus' text format: what an operator scrapes to
/// watch a replica (requests by status, latency, batch sizes, queue depth, GPU utilization).
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let ok: Counter
    private let refused: Counter
    private let overloaded: Counter
    private let failed: Counter
    private let timedOut: Counter
    private let latency: DurationHistogram
    private let batchSize: ValueHistogram
    let queueDepth: Gauge
    /// Only where GPU telemetry is sampled: a gauge that reads 0 off a GPU would be a false figure.
    let gpuUtilization: Gauge?
    let ready: Gauge

    init(model: String, gpu: Bool) {
        let name = "inferbench_requests_total"
        let help = "Inference requests answered, by outcome"
        let labels = { (outcome: String) in [("model", model), ("outcome", outcome)] }
        ok = registry.makeCounter(name: name, labels: labels("ok"), help: help)
        refused = registry.makeCounter(name: name, labels: labels("bad_request"), help: help)
        overloaded = registry.makeCounter(name: name, labels: labels("overloaded"), help: help)
        failed = registry.makeCounter(name: name, labels: labels("failed"), help: help)
        timedOut = registry.makeCounter(name: name, labels: labels("timeout"), help: help)
        let seconds: [Duration] = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5].map { .milliseconds(Int64($0 * 1000)) }
        latency = registry.makeDurationHistogram(
            name: "inferbench_request_duration_seconds", labels: [("model", model)], buckets: seconds,
            help: "Time from a request's arrival to its answer, successful requests")
        batchSize = registry.makeValueHistogram(
            name: "inferbench_batch_size", labels: [("model", model)], buckets: [1, 2, 4, 8, 16, 24, 32, 64, 128, 256],
            help: "Requests in the batch that carried each successful request")
        queueDepth = registry.makeGauge(name: "inferbench_queue_depth", labels: [("model", model)], help: "Requests waiting for a batch")
        gpuUtilization =
            gpu
            ? registry.makeGauge(
                name: "inferbench_gpu_utilization_ratio", labels: [("model", model)], help: "GPU utilization at the last scrape (0 to 1)") : nil
        ready = registry.makeGauge(name: "inferbench_ready", labels: [("model", model)], help: "1 once the workers are warm and serving")
    }

    func record(_ outcome: RequestOutcome, arrived: Double, answered: Double) {
        switch (outcome.status, outcome.failure) {
        case (.ok, _):
            ok.increment()
            latency.recordNanoseconds(Int64((answered - arrived) * 1e9))
            batchSize.record(Double(outcome.batchSize))
        case (.rejected, _): overloaded.increment()
        case (.failed, .timeout?): timedOut.increment()
        case (.failed, _): failed.increment()
        }
    }

    func badRequest() { refused.increment() }
}
