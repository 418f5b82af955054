import Foundation
import Yams

/// `inferbench recommend PLAN.yaml`: the search's settings as a YAML mapping whose keys are the
/// flags without their dashes (`sla-p99: 15`, `precision: [fp16, bf16]`); flags on the command
/// line override it. Each value comes back as the text its flag takes (a list comma-joined).
public enum RecommendPlanFile {
    public static let keys: Set<String> = [
        "model", "sla-p99", "peak-qps", "headroom", "gpu-price", "max-memory-mb", "max-cold-start", "budget", "compile", "precision", "max-batch",
        "max-delay", "workers", "device", "channels-last", "seed", "step",
    ]

    public static func read(path: String) throws(InferbenchError) -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .badInput("\(path): cannot read the plan (\(error.localizedDescription)); give a YAML file")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw .badInput("\(path): not valid YAML: \(error)") }
        guard let mapping = root?.mapping else {
            throw .badInput("\(path): a recommend plan is a mapping of the flags' names, e.g. `sla-p99: 15`; see docs/cli.md")
        }
        var values: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, keys.contains(key) else {
                let near = suggestions(for: keyNode.string ?? "", among: keys.sorted())
                throw .badInput(
                    "\(path):\(keyNode.mark?.line ?? 0): unknown key `\(keyNode.string ?? "?")`\(near.isEmpty ? "" : "; did you mean \(near[0])?") (keys: \(keys.sorted().joined(separator: ", ")))"
                )
            }
            if let items = value.sequence {
                let texts = items.compactMap(\.string)
                guard texts.count == items.count else { throw .badInput("\(path):\(value.mark?.line ?? 0): \(key): each item must be a plain value") }
                values[key] = texts.joined(separator: ",")
            } else if let scalar = value.string {
                values[key] = scalar
            } else {
                throw .badInput("\(path):\(value.mark?.line ?? 0): \(key): give a value or a list")
            }
        }
        return values
    }
}
