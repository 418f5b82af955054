import Foundation
import Yams

/// A plan read from a YAML file, so an assessment is reproducible and reviewable.
///
/// ```yaml
/// models: [resnet50, "bert-base:seq=128"]
/// compile: [eager, default, reduce-overhead]
/// precision: [fp32, fp16]
/// batch: [1, 4, 8, 16, 32]
/// device: auto
/// max_time: 10
/// environments: { torch24: /opt/py24/bin/python, torch26: /opt/py26/bin/python }
/// ```
///
/// Every error names the file, the line and the field. Keys left out keep their defaults;
/// command-line flags override the file.
public struct PlanFile: Sendable {
    public var plan: Plan
    public var environments: [PythonEnvironmentSpec]

    public static let keys = PlanKey.allCases.map(\.rawValue)

    /// Reads a YAML plan file, or the plan recorded in a results.json (or the run folder that
    /// holds one), so that a finished run can be run again as it was planned.
    public static func load(path: String) throws(InferbenchError) -> PlanFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .badInput("\(path): no such plan file; give a YAML plan (see docs/cli.md) or a results.json to run its plan again")
        }
        if isDirectory.boolValue {
            guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appending(path: "results.json").path) else {
                throw .badInput("\(path) is a folder, not a plan file; give a YAML plan file, or a run folder that holds a results.json")
            }
            return try recorded(path: path)
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .badInput("\(path): cannot read the plan file as UTF-8 text; give a YAML plan file")
        }
        if text.drop(while: \.isWhitespace).hasPrefix("{"), text.contains(RunResults.schemaID) { return try recorded(path: path) }
        return try parse(text, file: path)
    }

    /// The plan a results.json recorded. Its environments come along only when there were
    /// several (one is the Python found at the time, which the new run finds again).
    static func recorded(path: String) throws(InferbenchError) -> PlanFile {
        let (results, url) = try RunResults.load(path: path, role: "plan")
        guard let plan = results.run.plan else {
            throw .badInput("\(url.path): these results (of `inferbench load`) record no run plan; give a YAML plan file")
        }
        let environments = results.environments.count > 1 ? results.environments.map { PythonEnvironmentSpec(name: $0.name, python: $0.python) } : []
        return PlanFile(plan: plan, environments: environments)
    }

    /// The plan as a YAML plan file, key by key from the same table that `parse` reads, so
    /// that `parse(render(plan))` is the plan again.
    public static func render(_ plan: Plan, environments: [PythonEnvironmentSpec] = []) -> String {
        func list(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }
        var lines: [String] = []
        for key in PlanKey.allCases {
            let value: String?
            switch key {
            case .models: value = list(plan.models.map(\.description))
            case .compile: value = list(plan.compile.map(\.rawValue))
            case .precision: value = list(plan.precision.map(\.rawValue))
            case .batch: value = "[" + plan.batch.map(String.init).joined(separator: ", ") + "]"
            case .seq: value = plan.seq.isEmpty ? nil : "[" + plan.seq.map(String.init).joined(separator: ", ") + "]"
            case .shapes: value = plan.shapes.isEmpty ? nil : list(plan.shapes.map(\.rawValue))
            case .device: value = "\"\(plan.device)\""
            case .channelsLast: value = String(plan.channelsLast)
            case .fullgraph: value = String(plan.fullgraph)
            case .dynamic: value = plan.dynamic.map(String.init)
            case .seed: value = String(plan.seed)
            case .verify: value = String(plan.verify)
            case .throughput: value = String(plan.throughput)
            case .interleave: value = String(plan.interleave)
            case .batchReuse: value = String(plan.batchReuse)
            case .repeats: value = String(plan.repeats)
            case .processes: value = "\"\(plan.processes)\""
            case .pin: value = String(plan.pin)
            case .threads: value = plan.threads.map(String.init)
            case .minTime: value = number(plan.stopping.minTime)
            case .maxTime: value = number(plan.stopping.maxTime)
            case .targetCI: value = String(plan.stopping.targetCI)
            case .warmup: value = plan.stopping.warmupIterations.map(String.init)
            case .iterations: value = plan.stopping.iterations.map(String.init)
            case .environments:
                value = environments.isEmpty ? nil : "{ " + environments.map { "\($0.name): \"\($0.python)\"" }.joined(separator: ", ") + " }"
            }
            if let value { lines.append("\(key.rawValue): \(value)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func parse(_ text: String, file: String) throws(InferbenchError) -> PlanFile {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw .badInput("\(file): not valid YAML: \(error)")
        }
        guard let root, let mapping = root.mapping else {
            throw .badInput("\(file): a plan is a mapping of keys such as `models:` and `batch:`; see docs/cli.md")
        }
        var plan = Plan(models: [])
        var environments: [PythonEnvironmentSpec] = []
        func fail(_ node: Node, _ key: String, _ message: String) -> InferbenchError {
            .badInput("\(file):\(node.mark?.line ?? 0): \(key): \(message)")
        }
        func list(_ node: Node, _ key: String) throws(InferbenchError) -> [(Node, String)] {
            if let seq = node.sequence {
                var out: [(Node, String)] = []
                for item in seq {
                    guard let s = item.scalar?.string else { throw fail(item, key, "each item must be a plain value") }
                    out.append((item, s))
                }
                return out
            }
            guard let s = node.scalar?.string else { throw fail(node, key, "give a list, e.g. [1, 8]") }
            return s.split(separator: ",").map { (node, $0.trimmingCharacters(in: .whitespaces)) }
        }
        func number(_ node: Node, _ key: String) throws(InferbenchError) -> Double {
            guard let v = node.float ?? node.int.map(Double.init) else { throw fail(node, key, "expected a number, got `\(node.string ?? "?")`") }
            return v
        }
        func integer(_ node: Node, _ key: String) throws(InferbenchError) -> Int {
            guard let v = node.int else { throw fail(node, key, "expected a whole number, got `\(node.string ?? "?")`") }
            return v
        }
        func flag(_ node: Node, _ key: String) throws(InferbenchError) -> Bool {
            guard let v = node.bool else { throw fail(node, key, "expected true or false, got `\(node.string ?? "?")`") }
            return v
        }
        func enumList<T: RawRepresentable & CaseIterable>(_ node: Node, _ key: String) throws(InferbenchError) -> [T] where T.RawValue == String {
            var out: [T] = []
            for (item, text) in try list(node, key) {
                guard let v = T(rawValue: text) else {
                    let valid = T.allCases.map(\.rawValue)
                    let near = suggestions(for: text, among: valid)
                    throw fail(item, key, "`\(text)` is not one of \(valid.joined(separator: ", "))" + (near.isEmpty ? "" : "; did you mean \(near[0])?"))
                }
                out.append(v)
            }
            return out
        }

        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail(keyNode, "?", "keys must be plain words") }
            guard let planKey = PlanKey(rawValue: key) else {
                let near = suggestions(for: key, among: keys)
                throw fail(keyNode, key, "unknown key" + (near.isEmpty ? "" : "; did you mean \(near[0])?") + " (known: \(keys.joined(separator: ", ")))")
            }
            switch planKey {
            case .models:
                plan.models = []
                for (item, text) in try list(value, key) {
                    do { plan.models.append(try ModelSpec(parsing: text)) } catch { throw fail(item, key, error.description) }
                }
            case .compile: plan.compile = try enumList(value, key)
            case .precision: plan.precision = try enumList(value, key)
            case .batch:
                plan.batch = []
                for (item, text) in try list(value, key) {
                    guard let b = Int(text), b >= 1 else { throw fail(item, key, "`\(text)` is not a batch size (a whole number ≥ 1)") }
                    plan.batch.append(b)
                }
            case .seq:
                plan.seq = []
                for (item, text) in try list(value, key) {
                    guard let n = Int(text), n >= 1 else { throw fail(item, key, "`\(text)` is not a sequence length (a whole number ≥ 1)") }
                    plan.seq.append(n)
                }
            case .shapes: plan.shapes = try enumList(value, key)
            case .device:
                do { plan.device = try DeviceChoice(parsing: value.string ?? "") } catch { throw fail(value, key, "expected auto, cpu, cuda or cuda:N") }
            case .channelsLast: plan.channelsLast = try flag(value, key)
            case .fullgraph: plan.fullgraph = try flag(value, key)
            case .dynamic: plan.dynamic = try flag(value, key)
            case .verify: plan.verify = try flag(value, key)
            case .throughput: plan.throughput = try flag(value, key)
            case .interleave: plan.interleave = try flag(value, key)
            case .batchReuse: plan.batchReuse = try flag(value, key)
            case .seed: plan.seed = try integer(value, key)
            case .repeats: plan.repeats = try integer(value, key)
            case .processes:
                do { plan.processes = try ProcessCount(parsing: value.string ?? "") } catch {
                    throw fail(value, key, "expected auto or a whole number from 1 to \(ProcessCount.most)")
                }
            case .pin: plan.pin = try flag(value, key)
            case .threads: plan.threads = try integer(value, key)
            case .minTime: plan.stopping.minTime = try number(value, key)
            case .maxTime: plan.stopping.maxTime = try number(value, key)
            case .targetCI: plan.stopping.targetCI = try number(value, key)
            case .warmup: plan.stopping.warmupIterations = try integer(value, key)
            case .iterations: plan.stopping.iterations = try integer(value, key)
            case .environments:
                guard let envs = value.mapping else { throw fail(value, key, "give a mapping of name: /path/to/python") }
                for (nameNode, pathNode) in envs {
                    guard let name = nameNode.string, let path = pathNode.string, !name.isEmpty else {
                        throw fail(nameNode, key, "each entry is name: /path/to/python")
                    }
                    environments.append(PythonEnvironmentSpec(name: name, python: path))
                }
            }
        }
        do { try plan.validate() } catch { throw .badInput("\(file): \(error.description)") }
        return PlanFile(plan: plan, environments: environments)
    }
}

/// The keys of a plan: one table for the YAML plan file, the plan recorded with every run
/// (re-read by ``PlanFile/load(path:)``) and the command-line flags that override each key.
public enum PlanKey: String, CaseIterable, Sendable {
    case models, compile, precision, batch, seq, device
    case channelsLast = "channels_last"
    case fullgraph, dynamic, shapes, seed, verify, throughput, interleave
    case batchReuse = "batch_reuse"
    case repeats, processes, pin, threads
    case minTime = "min_time"
    case maxTime = "max_time"
    case targetCI = "target_ci"
    case warmup, iterations, environments

    /// The `run` flag that overrides this key.
    public var flag: String {
        switch self {
        case .models: return "--model"
        case .environments: return "--env"
        case .verify: return "--no-verify"
        case .throughput: return "--no-throughput"
        case .interleave: return "--no-interleave"
        case .batchReuse: return "--no-batch-reuse"
        case .pin: return "--pin"
        default: return "--" + rawValue.replacingOccurrences(of: "_", with: "-")
        }
    }
}
