/// Where a load test's requests go: inferbench's own dynamic batcher and workers, or a server
/// over HTTP (`load --target`). Every scenario drives either the same way, and latency always
/// runs from the request's due time.
public protocol RequestSink: Sendable {
    /// Sends one request due at `scheduled` (monotonic seconds) and returns once it is
    /// answered, failed or turned away. `length`: the request's own length, where the sink
    /// varies lengths (nil: its choice).
    func submit(scheduled: Double, length: Int?) async -> RequestOutcome
    /// Requests accepted and not yet answered: a search lets them drain before its next step
    /// so that steps do not bleed into each other.
    var pending: Int { get async }
    /// The server's own cumulative timing, where it keeps one (an HTTP target's statistics
    /// extension): read before and after each step.
    func serverStatistics() async -> ServerStatistics?
}

extension RequestSink {
    public func serverStatistics() async -> ServerStatistics? { nil }
}

/// Why a request did not succeed, beyond ``RequestOutcome/Status``: counted per kind in each
/// step (`error_kinds` in results.json), so that "12 errors" says which 12.
public enum RequestFailure: String, Codable, Sendable, CaseIterable, Comparable {
    /// The worker died with the request's batch in flight, or answered the batch with an error.
    case worker
    /// The queue was full (in-process), or the server said so (HTTP 503, 429).
    case overloaded
    /// No answer within the request's timeout.
    case timeout
    /// The connection could not be made, or closed before the answer.
    case connection
    /// The server answered 4xx: it refused the request as sent.
    case clientError = "http_4xx"
    /// The server answered 5xx (other than 503): it failed while serving it.
    case serverError = "http_5xx"
    /// A 200 whose body is not an inference response of the model's outputs (their names,
    /// shapes and datatypes, from its metadata).
    case badResponse = "bad_response"

    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}
