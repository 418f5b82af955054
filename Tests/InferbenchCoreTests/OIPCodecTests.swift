import Foundation
import Testing

@testable import InferbenchCore

/// The Open Inference Protocol's bodies as `load --target` writes them and `serve` reads them:
/// each encoding decodes to the bytes it was made from, and every malformed request is refused
/// with its status before it could reach a worker.
@Suite struct OIPCodecTests {
    static let model = OIPModelMetadata(
        name: "m", platform: "pytorch",
        inputs: [
            OIPTensorMetadata(name: "ids", datatype: .int64, shape: [-1, 4]), OIPTensorMetadata(name: "x", datatype: .fp16, shape: [-1, 2, 3]),
        ],
        outputs: [OIPTensorMetadata(name: "y", datatype: .fp32, shape: [-1, 2])])

    static func request() throws -> [OIPTensor] {
        try #require(try OIPRequestBody.synthetic(model, count: 1, seed: 7).first)
    }

    @Test(arguments: OIPEncoding.allCases) func aRequestDecodesToTheBytesItWasMadeFrom(_ encoding: OIPEncoding) throws {
        let tensors = try Self.request()
        #expect(tensors.map(\.shape) == [[1, 4], [1, 2, 3]])
        let (body, headers) = OIPRequestBody.encode(tensors, outputs: ["y"], encoding: encoding, id: "inferbench-3")
        let length = headers.first { $0.0 == oipHeaderLengthField }.flatMap { Int($0.1) }
        #expect((length != nil) == (encoding == .binary))
        let decoded = try OIPInferCodec.decode(body, headerLength: length, model: Self.model)
        #expect(decoded.inputs == tensors.map(\.bytes))
        #expect(decoded.id == "inferbench-3")
        #expect(decoded.outputs == ["y"])
        #expect(decoded.binaryOutputs == (encoding == .binary))
    }

    @Test func syntheticSamplesAreSeededAndDiffer() throws {
        let a = try OIPRequestBody.synthetic(Self.model, count: 4, seed: 1)
        let b = try OIPRequestBody.synthetic(Self.model, count: 4, seed: 1)
        let c = try OIPRequestBody.synthetic(Self.model, count: 4, seed: 2)
        #expect(a == b)
        #expect(a != c)
        #expect(Set(a.map { $0[1].bytes }).count > 1, "the samples should not all be the same")
    }

    @Test func halfFloatsRoundTripAndRound() {
        for v: Float in [0, 1, -2, 0.5, 65504, -0.000061035156, 1024.5] {
            #expect(HalfFloat.value(HalfFloat.bits(v)) == Float(Float16(v)), "\(v)")
        }
        #expect(HalfFloat.value(HalfFloat.bits(1e6)).isInfinite)
        let bytes = OIPRequestBody.encode([1.5, -3, 7], as: .fp16)
        #expect(OIPRequestBody.decode(bytes, as: .fp16) as? [Double] == [1.5, -3, 7])
        #expect(OIPRequestBody.decode(OIPRequestBody.encode([1, 0, 1], as: .bool), as: .bool) as? [Bool] == [true, false, true])
        #expect(OIPRequestBody.decode(OIPRequestBody.encode([-5, 1_099_511_627_776], as: .int64), as: .int64) as? [Int] == [-5, 1 << 40])
    }

    /// Each malformed request, as a client could send it, with the status `serve` answers.
    static let refusals: [(String, Int?, Int, String)] = [
        ("not json", nil, 400, "not a JSON object"),
        (#"{"inputs": 3}"#, nil, 400, "no \"inputs\" list"),
        (#"{"inputs": [{"name": "z", "datatype": "FP16", "shape": [1], "data": [1]}]}"#, nil, 400, "input z"),
        (#"{"inputs": [{"name": "ids", "datatype": "INT64", "shape": [1, 4], "data": [1, 2, 3, 4]}]}"#, nil, 400, "input x is missing"),
        (
            #"{"inputs": [{"name": "ids", "datatype": "INT32", "shape": [1, 4], "data": [1, 2, 3, 4]}, {"name": "x", "datatype": "FP16", "shape": [1, 2, 3], "data": [1, 2, 3, 4, 5, 6]}]}"#,
            nil, 400, "the model takes INT64"
        ),
        (
            #"{"inputs": [{"name": "ids", "datatype": "INT64", "shape": [2, 4], "data": [1, 2, 3, 4, 1, 2, 3, 4]}, {"name": "x", "datatype": "FP16", "shape": [1, 2, 3], "data": [1, 2, 3, 4, 5, 6]}]}"#,
            nil, 400, "one sample a request"
        ),
        (
            #"{"inputs": [{"name": "ids", "datatype": "INT64", "shape": [1, 4], "data": [1, 2, 3]}, {"name": "x", "datatype": "FP16", "shape": [1, 2, 3], "data": [1, 2, 3, 4, 5, 6]}]}"#,
            nil, 400, "not 4 numbers"
        ),
        (
            #"{"inputs": [{"name": "ids", "datatype": "INT64", "shape": [1, 4], "data": [1, 2, "3", 4]}, {"name": "x", "datatype": "FP16", "shape": [1, 2, 3], "data": [1, 2, 3, 4, 5, 6]}]}"#,
            nil, 400, "not 4 numbers"
        ),
        (
            #"{"inputs": [{"name": "ids", "datatype": "INT64", "shape": [1, 4], "data": [1, 2, 3, 4]}, {"name": "x", "datatype": "FP16", "shape": [1, 2, 3], "data": [1, 2, 3, 4, 5, 6]}], "outputs": [{"name": "w"}]}"#,
            nil, 400, "output w"
        ),
        ("{}", 99, 400, "beyond the body"),
    ]

    @Test func malformedRequestsAreRefusedWithTheirStatus() {
        for (text, length, status, words) in Self.refusals {
            do throws(OIPInferCodec.Refusal) {
                _ = try OIPInferCodec.decode(Array(text.utf8), headerLength: length, model: Self.model)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.status == status, "\(text)")
                #expect(error.message.contains(words), "\(text): \(error.message)")
            }
        }
    }

    @Test func binaryFramingMustAddUp() throws {
        let (body, headers) = OIPRequestBody.encode(try Self.request(), outputs: ["y"], encoding: .binary)
        let length = try #require(headers.first { $0.0 == oipHeaderLengthField }.flatMap { Int($0.1) })
        #expect(throws: OIPInferCodec.Refusal.self) { try OIPInferCodec.decode(body.dropLast(2).map { $0 }, headerLength: length, model: Self.model) }
        #expect(throws: OIPInferCodec.Refusal.self) { try OIPInferCodec.decode(body + [0], headerLength: length, model: Self.model) }
    }

    @Test(arguments: [false, true]) func aResponsePassesTheClientsCheck(_ binary: Bool) throws {
        let row = OIPRequestBody.encode([0.25, -1], as: .fp32)
        let (body, length) = OIPInferCodec.response(model: Self.model, id: "a", outputs: [row], asked: nil, binary: binary)
        #expect((length != nil) == binary)
        try OIPResponseCheck(expected: Self.model.outputs).check(body, jsonLength: length)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body[..<(length ?? body.count)])) as? [String: Any])
        #expect(object["id"] as? String == "a")
        if !binary {
            let output = try #require((object["outputs"] as? [[String: Any]])?.first)
            #expect(output["data"] as? [Double] == [0.25, -1])
            #expect(output["shape"] as? [Int] == [1, 2])
        }
    }

    @Test func wrongResponsesAreCaught() {
        let check = OIPResponseCheck(expected: Self.model.outputs)
        let bad: [(String, String)] = [
            (#"{"error": "x"}"#, "not an inference response"),
            (#"{"outputs": [{"name": "y", "datatype": "FP16", "shape": [1, 2], "data": [1, 2]}]}"#, "is FP16"),
            (#"{"outputs": [{"name": "y", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}]}"#, "has shape [1, 3]"),
            (#"{"outputs": [{"name": "y", "datatype": "FP32", "shape": [1, 2], "data": [1]}]}"#, "1 values"),
            (#"{"outputs": []}"#, "missing"),
        ]
        for (text, words) in bad {
            do throws(OIPResponseCheck.Problem) {
                try check.check(Array(text.utf8), jsonLength: nil)
                Issue.record("passed: \(text)")
            } catch { #expect(error.message.contains(words), "\(text): \(error.message)") }
        }
    }

    @Test func serverTimePerRequestIsTheDifferenceOfTwoReadings() throws {
        let a = ServerStatistics(success: 10, successNS: 50e6, queueNS: 10e6, computeNS: 30e6)
        let b = ServerStatistics(success: 30, successNS: 150e6, queueNS: 50e6, computeNS: 70e6)
        let per = try #require(b.perRequestMS(since: a))
        #expect(abs(per.total - 5) < 1e-9 && abs(per.queue - 2) < 1e-9 && abs(per.compute - 2) < 1e-9)
        #expect(a.perRequestMS(since: a) == nil)
    }

    /// The scanner `load --target` checks answers with reads JSON's grammar: nested and boolean
    /// data, escapes, unknown keys of any kind, whitespace; and refuses what is not JSON.
    @Test func theResponseScannerReadsJSONAndRefusesTheRest() throws {
        let text = """
             { "id" : "a\\\"b", "model_name":"m", "parameters": {"x": [1, {"y": null}], "z": -1.5e-3},
              "outputs" : [ {"name":"y\\u00e9", "datatype":"FP32","shape":[ 2 , 2 ],"data":[[1.0,-2e3],[3, 4]], "extra": true},
                            {"name":"b","datatype":"BOOL","shape":[1,3],"parameters":{"binary_data_size":3, "k": "v"}} ,
                            {"name":"t","datatype":"BOOL","shape":[3],"data":[true,false,null], "parameters": null} ] }
            """
        let outputs = try OIPResponseScan.outputs(Array(text.utf8)[...])
        #expect(outputs.map(\.name) == ["yé", "b", "t"])
        #expect(outputs[0].shape == [2, 2] && outputs[0].dataCount == 4 && outputs[0].binaryDataSize == nil)
        #expect(outputs[1].binaryDataSize == 3 && outputs[1].dataCount == nil)
        #expect(outputs[2].dataCount == 3)
        let bad = [
            "", "[]", "{\"outputs\": []", "{\"outputs\": []} x", "{\"outputs\": [{\"name\": \"a\", \"datatype\": \"FP32\"}]}",
            "{\"outputs\": [{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": [1.5]}]}", "{\"outputs\": [{\"name\": \"a\" \"datatype\": 1}]}",
            "{\"a\": tru, \"outputs\": []}", "{\"a\": 01x, \"outputs\": []}", "{\"a\": \"\\q\", \"outputs\": []}", "{\"id\": 1}",
        ]
        for b in bad { #expect(throws: OIPResponseScan.Malformed.self, "\(b)") { try OIPResponseScan.outputs(Array(b.utf8)[...]) } }
    }

}
