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
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "inferbench", metricName: metric, unitName: unit, helpText: help)
        }
        let requests = name("requests", "total", "Inference requests answered, by outcome")
        let labels = { (outcome: String) in [("model", model), ("outcome", outcome)] }
        ok = registry.makeCounter(descriptor: requests, labels: labels("ok"))
        refused = registry.makeCounter(descriptor: requests, labels: labels("bad_request"))
        overloaded = registry.makeCounter(descriptor: requests, labels: labels("overloaded"))
        failed = registry.makeCounter(descriptor: requests, labels: labels("failed"))
        timedOut = registry.makeCounter(descriptor: requests, labels: labels("timeout"))
        let seconds: [Duration] = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5].map { .milliseconds(Int64($0 * 1000)) }
        latency = registry.makeDurationHistogram(
            descriptor: name("request_duration", "seconds", "Time from a request's arrival to its answer, successful requests"),
            labels: [("model", model)], buckets: seconds)
        batchSize = registry.makeValueHistogram(
            descriptor: name("batch_size", "", "Requests in the batch that carried each successful request"), labels: [("model", model)],
            buckets: [1, 2, 4, 8, 16, 24, 32, 64, 128, 256])
        queueDepth = registry.makeGauge(descriptor: name("queue_depth", "", "Requests waiting for a batch"), labels: [("model", model)])
        gpuUtilization =
            gpu
            ? registry.makeGauge(descriptor: name("gpu_utilization", "ratio", "GPU utilization at the last scrape (0 to 1)"), labels: [("model", model)])
            : nil
        ready = registry.makeGauge(descriptor: name("ready", "", "1 once the workers are warm and serving"), labels: [("model", model)])
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
