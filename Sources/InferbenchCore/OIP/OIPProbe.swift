import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The reads `load --target` makes before a test: readiness, the server's and the model's
/// metadata, which models it serves, and its statistics. Each failure says what to fix.
struct OIPProbe {
    let client: HTTPClient
    let base: String
    /// How the user named the target, for messages.
    let flag: String

    struct Answer {
        var status: HTTPResponseStatus
        var body: ByteBuffer
        var text: String { String(String(buffer: body).prefix(300)) }
    }

    func get(_ path: String, method: HTTPMethod = .GET, timeout: Double = 5) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if method == .POST {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: "{}"))
        }
        let response = try await client.execute(request, deadline: .now() + .milliseconds(Int64(timeout * 1000)))
        return Answer(status: response.status, body: try await response.body.collect(upTo: 16 << 20))
    }

    /// Polls `path` until it answers 200, for at most `within` seconds (a server still
    /// loading its model), or 5 s while nothing answers at all. An unreachable server is the
    /// environment's (exit 4); a 404 means it does not speak the protocol (exit 64).
    func waitReady(path: String, within: Double) async throws(InferbenchError) {
        let started = Monotonic.now()
        var deadline = started + min(within, 5)
        var last = ""
        while true {
            do {
                let answer = try await get(path)
                if answer.status == .ok { return }
                if answer.status == .notFound {
                    throw InferbenchError.badInput(
                        "\(flag): GET \(path) answered 404: not an Open Inference Protocol (KServe v2) server, or no such model; check the address and --model-name"
                    )
                }
                last = "GET \(path) answered \(answer.status.code)"
                deadline = started + within  // it answers: give it the time to load
            } catch let error as InferbenchError {
                throw error
            } catch {
                last = "\(error)"
                if Monotonic.now() + 0.5 > deadline {
                    throw .environment("\(flag): cannot reach the server (\(last)); start it, or fix the address")
                }
            }
            if Monotonic.now() + 0.5 > deadline {
                throw .environment("\(flag): not ready after \(Int(within)) s (\(last)); wait for it to load, or fix the address")
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// `GET /v2`, where the server tells its name and version; nil if it does not.
    func serverMetadata() async -> OIPServerMetadata? {
        guard let answer = try? await get("/v2"), answer.status == .ok else { return nil }
        return try? JSONDecoder().decode(OIPServerMetadata.self, from: Data(buffer: answer.body))
    }

    /// The model's name when the server serves exactly one: Triton's repository index, else
    /// KServe's model list.
    func onlyModel() async throws(InferbenchError) -> String {
        let names = await modelNames()
        guard let names else {
            throw .badInput("\(flag): the server does not list its models; give --model-name NAME")
        }
        guard names.count == 1 else {
            throw .badInput(
                names.isEmpty
                    ? "\(flag): the server serves no model yet; load one, or give --model-name NAME"
                    : "\(flag) serves \(names.count) models (\(names.joined(separator: ", "))); choose one with --model-name NAME")
        }
        return names[0]
    }

    /// What the server says it serves, nil if it has no list to ask.
    func modelNames() async -> [String]? {
        if let answer = try? await get("/v2/repository/index", method: .POST), answer.status == .ok,
            let list = try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [[String: Any]]
        {
            return list.compactMap { $0["name"] as? String }
        }
        if let answer = try? await get("/v1/models"), answer.status == .ok,
            let object = try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any], let models = object["models"] as? [String]
        {
            return models
        }
        return nil
    }

    /// `GET /v2/models/NAME`: a model the server does not serve, or metadata that is not the
    /// protocol's, is bad input.
    func modelMetadata(_ name: String) async throws(InferbenchError) -> OIPModelMetadata {
        let answer: Answer
        do { answer = try await get("/v2/models/\(OIPTarget.escape(name))") } catch {
            throw .environment("\(flag): cannot reach the server (\(error)); start it, or fix the address")
        }
        if answer.status == .notFound || answer.status == .badRequest {
            let served = await modelNames().map { " (it serves \($0.joined(separator: ", ")))" } ?? ""
            throw .badInput("--model-name \(name): \(flag) serves no such model\(served)")
        }
        guard answer.status == .ok else {
            throw .badInput("\(flag): GET /v2/models/\(name) answered \(answer.status.code): \(answer.text)")
        }
        do { return try JSONDecoder().decode(OIPModelMetadata.self, from: Data(buffer: answer.body)) } catch {
            throw .badInput("\(flag): the metadata of \(name) is not the protocol's (name, inputs and outputs with datatype and shape): \(answer.text)")
        }
    }

    /// Triton's statistics extension for `name`, summed over versions; nil where absent.
    func statistics(_ name: String) async -> ServerStatistics? {
        guard let answer = try? await get("/v2/models/\(OIPTarget.escape(name))/stats"), answer.status == .ok,
            let object = try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any],
            let models = object["model_stats"] as? [[String: Any]], !models.isEmpty
        else { return nil }
        var total = ServerStatistics(success: 0, successNS: 0, queueNS: 0, computeNS: 0)
        for model in models {
            guard let stats = model["inference_stats"] as? [String: Any] else { continue }
            func field(_ key: String, _ part: String) -> Double {
                ((stats[key] as? [String: Any])?[part] as? NSNumber)?.doubleValue ?? 0
            }
            total.success += Int(field("success", "count"))
            total.successNS += field("success", "ns")
            total.queueNS += field("queue", "ns")
            total.computeNS += field("compute_input", "ns") + field("compute_infer", "ns") + field("compute_output", "ns")
        }
        return total
    }
}

/// Checks that a 200's body is an inference response carrying the model's outputs with the
/// datatypes and shapes its metadata gives, and as many values as the shapes say.
struct OIPResponseCheck {
    let expected: [OIPTensorMetadata]

    struct Problem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    func check(_ body: [UInt8], jsonLength: Int?) throws(Problem) {
        let jsonEnd = jsonLength ?? body.count
        guard jsonEnd <= body.count, let outputs = try? OIPResponseScan.outputs(body[..<jsonEnd]) else {
            throw Problem("the body is not an inference response (a JSON object with \"outputs\")")
        }
        var binaryBytes = 0
        for output in outputs {
            let (name, shape) = (output.name, output.shape ?? [])
            guard let type = OIPDatatype(rawValue: output.datatype) else { throw Problem("output \(name) has datatype \(output.datatype), not one of OIP's") }
            if let meta = expected.first(where: { $0.name == name }) {
                guard type == meta.datatype else { throw Problem("output \(name) is \(type.rawValue); the model's metadata says \(meta.datatype.rawValue)") }
                guard meta.accepts(shape: shape) else { throw Problem("output \(name) has shape \(shape); the model's metadata says \(meta.shape)") }
            }
            let count = shape.reduce(1, *)
            if let size = output.binaryDataSize {
                guard type.size.map({ $0 * count == size }) ?? true else {
                    throw Problem("output \(name): \(size) bytes for shape \(shape) of \(type.rawValue)")
                }
                binaryBytes += size
            } else if let values = output.dataCount {
                guard values == count else { throw Problem("output \(name): \(values) values for shape \(shape)") }
            } else {
                throw Problem("output \(name) carries neither data nor binary_data_size")
            }
        }
        let missing = expected.map(\.name).filter { name in !outputs.contains { $0.name == name } }
        guard missing.isEmpty else { throw Problem("outputs \(missing) are missing") }
        guard binaryBytes == body.count - jsonEnd else {
            throw Problem("\(body.count - jsonEnd) bytes after the JSON header; the outputs say \(binaryBytes)")
        }
    }
}
