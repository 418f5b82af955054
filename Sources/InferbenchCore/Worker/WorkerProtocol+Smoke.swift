/// Arguments and result of the `smoke` operation used by `inferbench doctor`.
public struct SmokeArgs: Codable, Sendable {
    public var kind: String
    public var device: String
}

public struct SmokeResult: Codable, Sendable, Equatable {
    public var ok: Bool
    public var eagerMS: Double?
    public var compiledMS: Double?
    public var compileS: Double?
    public var maxAbsErr: Double?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case ok, error
        case eagerMS = "eager_ms"
        case compiledMS = "compiled_ms"
        case compileS = "compile_s"
        case maxAbsErr = "max_abs_err"
    }
}

extension Worker {
    public func smoke(kind: String, device: String) async throws(WorkerError) -> SmokeResult {
        try await call(.smoke, SmokeArgs(kind: kind, device: device), timeout: .seconds(900), as: SmokeResult.self)
    }
}
