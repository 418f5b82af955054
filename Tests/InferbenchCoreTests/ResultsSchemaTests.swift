import Foundation
import Testing

@testable import InferbenchCore

/// Checks results.json against docs/results-schema.json with a small checker (the subset of
/// JSON Schema the file uses: type, required, properties, items, $ref, anyOf, enum, const),
/// so the schema and `RunResults` cannot drift apart unnoticed.
@Suite struct ResultsSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let schema: [String: Any]
    let document: Any

    init() throws {
        let data = try Data(contentsOf: Self.root.appending(path: "docs/results-schema.json"))
        schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var results = ReportFixture.results()
        results.comparisons.append(Comparison(baseline: "a", candidate: "b", metric: "p50_speedup", ratio: 1, ci95: [0, .infinity], significant: false))
        results.cells.append(StepRatesTests.results().cells[0])  // steps_per_call, steps_per_s, seconds_per_image
        document = try JSONSerialization.jsonObject(with: RunResults.encoder().encode(results))
    }

    func resolve(_ node: [String: Any]) -> [String: Any] {
        guard let ref = node["$ref"] as? String, ref.hasPrefix("#/$defs/") else { return node }
        let defs = schema["$defs"] as? [String: Any] ?? [:]
        return resolve(defs[String(ref.dropFirst("#/$defs/".count))] as? [String: Any] ?? [:])
    }

    /// JSONSerialization gives NSNumber for numbers and booleans alike; booleans are its CFBoolean subclass.
    func isBool(_ value: Any) -> Bool { String(describing: type(of: value)).contains("Boolean") }

    func typeMatches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return isBool(value)
        case "integer": return !isBool(value) && (value as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() } ?? false
        case "number": return !isBool(value) && value is NSNumber
        default: return false
        }
    }

    /// Problems found under `path`; also flags keys the schema does not document.
    func check(_ value: Any, _ rawNode: [String: Any], _ path: String) -> [String] {
        let node = resolve(rawNode)
        if let anyOf = node["anyOf"] as? [[String: Any]] {
            return anyOf.contains { check(value, $0, path).isEmpty } ? [] : ["\(path): matches none of anyOf"]
        }
        if let options = node["enum"] as? [Any], !options.contains(where: { "\($0)" == "\(value)" }) { return ["\(path): \(value) not in enum"] }
        if let constant = node["const"], "\(constant)" != "\(value)" { return ["\(path): expected \(constant)"] }
        if let type = node["type"] as? String, !typeMatches(value, type) { return ["\(path): not a \(type)"] }
        var problems: [String] = []
        if let object = value as? [String: Any] {
            let properties = node["properties"] as? [String: Any] ?? [:]
            for key in node["required"] as? [String] ?? [] where object[key] == nil { problems.append("\(path).\(key): required but absent") }
            for (key, child) in object {
                guard let sub = properties[key] as? [String: Any] else { problems.append("\(path).\(key): not in the schema"); continue }
                problems += check(child, sub, "\(path).\(key)")
            }
        }
        if let array = value as? [Any], let items = node["items"] as? [String: Any] {
            for (i, item) in array.enumerated() { problems += check(item, items, "\(path)[\(i)]") }
        }
        return problems
    }

    @Test func encodedResultsMatchTheSchema() {
        #expect(check(document, schema, "$") == [])
    }

    @Test func requiredListsMatchWhatIsAlwaysEncoded() throws {
        let top = try #require(document as? [String: Any])
        #expect(Set(schema["required"] as? [String] ?? []) == Set(top.keys))
        let defs = try #require(schema["$defs"] as? [String: Any])
        func required(_ name: String) -> Set<String> { Set((defs[name] as? [String: Any])?["required"] as? [String] ?? []) }
        #expect(required("cell") == ["id", "model", "environment", "status", "variant", "warnings"])
        #expect(required("latency") == ["n", "mean", "stddev", "min", "p50", "p90", "p95", "p99", "p999", "max", "ci95"])
        // A failed cell carries exactly the required keys plus its error.
        let cells = try #require(top["cells"] as? [[String: Any]])
        let failed = try #require(cells.first { $0["status"] as? String == "failed" })
        #expect(Set(failed.keys) == required("cell").union(["error"]))
        let latency = try #require(cells.first?["latency_ms"] as? [String: Any])
        #expect(Set(latency.keys) == required("latency"))
    }

    @Test func loadResultsMatchTheSchema() throws {
        var results = LoadFixture.results()
        results.loadTests[0].telemetry = LoadFixture.timeline().aggregate(from: 100, to: 104, samplesProcessed: 800)
        results.loadTests[1].stoppedEarly = true
        results.loadTests[2].partial = true
        results.loadTests[2].rampQPS = [0, 300]
        results.loadTests[0].sla?.close = true
        results.loadTests[1].sla?.repeatOf = 0
        results.loadTests[1].sla?.planned = 2000
        results.telemetry?.devices = [TelemetryDevice(index: 0, name: "NVIDIA H100", uuid: "GPU-1", memoryTotalMB: 81_559, powerLimitW: 700)]
        let load = try JSONSerialization.jsonObject(with: RunResults.encoder().encode(results))
        #expect(check(load, schema, "$") == [])
        let defs = try #require(schema["$defs"] as? [String: Any])
        func required(_ name: String) -> Set<String> { Set((defs[name] as? [String: Any])?["required"] as? [String] ?? []) }
        // A bare step and window carry exactly their required keys.
        let bare = try #require(
            try JSONSerialization.jsonObject(with: RunResults.encoder().encode(LoadTestResult(scenario: "s"))) as? [String: Any])
        #expect(Set(bare.keys) == required("load_test"))
        let window = try #require(
            try JSONSerialization.jsonObject(
                with: RunResults.encoder().encode(LoadTestResult.Window(t: 0, seconds: 1, qps: 1, p50: nil, p99: nil, errors: 0))) as? [String: Any])
        #expect(Set(window.keys) == required("load_window"))
    }

    @Test func theCheckerCatchesDrift() {
        var broken = document as! [String: Any]
        broken["cells"] = [["id": "x", "model": "m", "environment": "e", "status": "exploded", "variant": [:], "warnings": [], "surprise": 1]]
        broken.removeValue(forKey: "run")
        let problems = check(broken, schema, "$")
        #expect(problems.contains("$.run: required but absent"))
        #expect(problems.contains("$.cells[0].status: exploded not in enum"))
        #expect(problems.contains("$.cells[0].surprise: not in the schema"))
        #expect(problems.contains("$.cells[0].variant.compile: required but absent"))
    }
}
