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

    public static let keys = [
        "models", "compile", "precision", "batch", "device", "channels_last", "fullgraph", "dynamic", "seed", "verify",
        "throughput", "interleave", "batch_reuse", "repeats", "min_time", "max_time", "target_ci", "warmup", "iterations", "environments",
    ]

    public static func load(path: String) throws(InferbenchError) -> PlanFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .badInput("\(path): cannot read the plan file (\(error.localizedDescription))")
        }
        return try parse(text, file: path)
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
            switch key {
            case "models":
                plan.models = []
                for (item, text) in try list(value, key) {
                    do { plan.models.append(try ModelSpec(parsing: text)) } catch { throw fail(item, key, error.description) }
                }
            case "compile": plan.compile = try enumList(value, key)
            case "precision": plan.precision = try enumList(value, key)
            case "batch":
                plan.batch = []
                for (item, text) in try list(value, key) {
                    guard let b = Int(text), b >= 1 else { throw fail(item, key, "`\(text)` is not a batch size (a whole number ≥ 1)") }
                    plan.batch.append(b)
                }
            case "device":
                do { plan.device = try DeviceChoice(parsing: value.string ?? "") } catch { throw fail(value, key, "expected auto, cpu, cuda or cuda:N") }
            case "channels_last": plan.channelsLast = try flag(value, key)
            case "fullgraph": plan.fullgraph = try flag(value, key)
            case "dynamic": plan.dynamic = try flag(value, key)
            case "verify": plan.verify = try flag(value, key)
            case "throughput": plan.throughput = try flag(value, key)
            case "interleave": plan.interleave = try flag(value, key)
            case "batch_reuse": plan.batchReuse = try flag(value, key)
            case "seed": plan.seed = try integer(value, key)
            case "repeats": plan.repeats = try integer(value, key)
            case "min_time": plan.stopping.minTime = try number(value, key)
            case "max_time": plan.stopping.maxTime = try number(value, key)
            case "target_ci": plan.stopping.targetCI = try number(value, key)
            case "warmup": plan.stopping.warmupIterations = try integer(value, key)
            case "iterations": plan.stopping.iterations = try integer(value, key)
            case "environments":
                guard let envs = value.mapping else { throw fail(value, key, "give a mapping of name: /path/to/python") }
                for (nameNode, pathNode) in envs {
                    guard let name = nameNode.string, let path = pathNode.string, !name.isEmpty else {
                        throw fail(nameNode, key, "each entry is name: /path/to/python")
                    }
                    environments.append(PythonEnvironmentSpec(name: name, python: path))
                }
            default:
                let near = suggestions(for: key, among: keys)
                throw fail(keyNode, key, "unknown key" + (near.isEmpty ? "" : "; did you mean \(near[0])?") + " (known: \(keys.joined(separator: ", ")))")
            }
        }
        do { try plan.validate() } catch { throw .badInput("\(file): \(error.description)") }
        return PlanFile(plan: plan, environments: environments)
    }
}
