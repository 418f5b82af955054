import Foundation

/// How the model is compiled.
public enum CompileMode: String, Codable, Sendable, CaseIterable {
    case eager
    case `default`
    case reduceOverhead = "reduce-overhead"
    case maxAutotune = "max-autotune"
    case maxAutotuneNoCudagraphs = "max-autotune-no-cudagraphs"
    case aotInductor = "aot-inductor"
    /// torch.compile with Torch-TensorRT's backend; a clear "not installed" without torch_tensorrt.
    case tensorrt
}

/// Numeric precision of weights and activations.
public enum Precision: String, Codable, Sendable, CaseIterable {
    case fp32, tf32, fp16, bf16
    case ampFP16 = "amp-fp16"
    case ampBF16 = "amp-bf16"
}

/// Which device the worker runs the model on.
public enum DeviceChoice: Sendable, Equatable, Codable, CustomStringConvertible {
    case auto
    case cpu
    case cuda(Int?)

    public init(parsing text: String) throws(InferbenchError) {
        switch text.lowercased() {
        case "auto": self = .auto
        case "cpu": self = .cpu
        case "cuda", "gpu": self = .cuda(nil)
        default:
            let parts = text.lowercased().split(separator: ":")
            if parts.count == 2, parts[0] == "cuda", let index = Int(parts[1]), index >= 0 {
                self = .cuda(index)
            } else {
                throw .badInput("--device \(text): expected auto, cpu, cuda or cuda:N")
            }
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .cpu: return "cpu"
        case .cuda(nil): return "cuda"
        case .cuda(let index?): return "cuda:\(index)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try DeviceChoice(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// How torch.compile treats input shapes (`run --shapes`): PyTorch's default, a static graph
/// per shape, or one dynamic graph for every shape. Eager ignores it.
public enum GraphShapes: String, Codable, Sendable, CaseIterable {
    /// `dynamic=None`: a static graph, then a dynamic one after the first recompile.
    case auto
    /// `dynamic=False`: one graph per shape; a new batch size or length compiles again.
    case `static`
    /// `dynamic=True`: one graph, compiled once, serves every shape.
    case dynamic

    public init(dynamic: Bool?) {
        switch dynamic {
        case nil: self = .auto
        case false?: self = .static
        case true?: self = .dynamic
        }
    }

    /// torch.compile's `dynamic` argument.
    public var dynamic: Bool? {
        switch self {
        case .auto: return nil
        case .static: return false
        case .dynamic: return true
        }
    }
}

/// One point of the matrix for one model: compile mode, precision, batch size and options.
public struct Variant: Codable, Sendable, Hashable {
    public var compile: CompileMode
    public var precision: Precision
    public var batchSize: Int
    public var channelsLast: Bool
    public var fullgraph: Bool
    public var dynamic: Bool?

    public init(compile: CompileMode, precision: Precision, batchSize: Int, channelsLast: Bool = false, fullgraph: Bool = false, dynamic: Bool? = nil) {
        self.compile = compile
        self.precision = precision
        self.batchSize = batchSize
        self.channelsLast = channelsLast
        self.fullgraph = fullgraph
        self.dynamic = dynamic
    }

    enum CodingKeys: String, CodingKey {
        case compile, precision, fullgraph, dynamic
        case batchSize = "batch_size"
        case channelsLast = "channels_last"
    }

    /// A short label such as `default/fp16/bs8/cl`.
    public var label: String {
        var text = "\(compile.rawValue)/\(precision.rawValue)/bs\(batchSize)"
        if channelsLast { text += "/cl" }
        if fullgraph { text += "/fullgraph" }
        if dynamic == true { text += "/dynamic" }
        // Only a compiled variant has graphs to keep static (eager ignores the setting).
        if dynamic == false && compile != .eager { text += "/static" }
        return text
    }
}
