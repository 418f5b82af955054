import Foundation
import Testing

/// docs/cli.md cannot drift from `--help`: every flag of every command is in that command's
/// section of the docs, and where `--help` states a default, the docs state the same one.
@Suite struct HelpDocsTests {
    static let commands = ["run", "load", "serve", "recommend", "report", "compare", "history", "doctor", "models", "monitor"]

    /// The options of a `--help` text: each flag, its short name (`-q`) if any, and its whole
    /// (unwrapped) description.
    static func options(_ help: String) -> [(flag: String, short: String?, text: String)] {
        guard let start = help.range(of: "OPTIONS:") else { return [] }
        var out: [(String, String?, String)] = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let words = trimmed.split(separator: " ")
            if let flag = words.first(where: { $0.hasPrefix("--") }), line.hasPrefix("  ") && !line.hasPrefix("        ") {
                let short = words.first.flatMap { $0.hasPrefix("-") && !$0.hasPrefix("--") ? String($0.dropLast()) : nil }
                out.append((String(flag), short, trimmed))
            } else if !trimmed.isEmpty, !out.isEmpty {
                out[out.count - 1].2 += " " + trimmed
            }
        }
        return out.filter { $0.0 != "--help" && $0.0 != "--version" }
    }

    /// The flags a section's tables document: the `--flag`s in each row's first cell
    /// (`| \`--min-time\`, \`--max-time\` | …` → both).
    static func documentedFlags(_ section: [Substring]) -> [String] {
        section.filter { $0.hasPrefix("| `") }.flatMap { row -> [String] in
            let cell = row.dropFirst(2).prefix { $0 != "|" }
            return cell.matches(of: /`(--[a-z0-9-]+(?:\/--[a-z0-9-]+)?)/).map { String($0.output.1) }
        }
    }

    /// "(default: 100)", "(values: en, zh; default: en)" → "100", "en".
    static func stated(default text: String) -> String? {
        guard let range = text.range(of: "default: ") else { return nil }
        let rest = text[range.upperBound...]
        let value = rest.prefix { $0 != ")" && $0 != "," && $0 != ";" }.trimmingCharacters(in: .whitespaces)
        return value.isEmpty ? nil : value
    }

    /// The lines of `## command` in docs/cli.md, up to the next `## ` heading.
    static func section(_ docs: String, _ command: String) -> [Substring] {
        let lines = docs.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0 == "## \(command)" }) else { return [] }
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("## ") } ?? lines.endIndex
        return Array(lines[start..<end])
    }

    static func words(_ text: some StringProtocol) -> String {
        text.replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "’", with: "'")
    }

    @Test(arguments: commands) func everyFlagIsDocumentedWithItsDefault(_ command: String) throws {
        let help = try CLI.run([command, "--help"])
        #expect(help.status == 0)
        let docs = try String(contentsOf: CLI.packageRoot.appending(path: "docs/cli.md"), encoding: .utf8)
        let section = Self.section(docs, command)
        try #require(!section.isEmpty, "docs/cli.md has no `## \(command)` section")
        let options = Self.options(help.stdout)
        #expect(!options.isEmpty, "no options parsed from `\(command) --help`")
        let documented = Self.documentedFlags(section)
        for flag in Set(documented) where !options.contains(where: { $0.flag == flag }) {
            Issue.record("docs/cli.md's `## \(command)` documents `\(flag)`, which `\(command) --help` does not have: remove it or add the flag")
        }
        for (flag, short, text) in options {
            let lines = section.filter { $0.contains("`\(flag)`") || $0.contains("`\(flag) ") || $0.contains(", \(flag)`") }
            #expect(!lines.isEmpty, "`\(command) \(flag)` is in --help but not in docs/cli.md's `## \(command)` section")
            #expect(
                documented.contains(flag), "`\(command) \(flag)` is in --help but has no row in the flag table of docs/cli.md's `## \(command)` section")
            if let short, !lines.isEmpty {
                #expect(lines.contains { $0.contains("`\(short)`") }, "`\(command) \(short), \(flag)`: docs/cli.md's line does not give `\(short)`")
            }
            guard !lines.isEmpty, let value = Self.stated(default: text) else { continue }
            let first = Self.words(value).split(separator: " ").first.map(String.init) ?? value
            #expect(
                lines.contains { Self.words($0).contains(first) },
                "`\(command) \(flag)`: --help says the default is \(value); docs/cli.md's line does not say \(first)")
        }
    }

    @Test func theParsersFindFlagsAndDefaults() {
        let help = """
            OPTIONS:
              --limit <limit>         At most N runs. (default: 20)
              --lang <lang>           Report language. (values: en, zh; default:
                                      en)
              -q, --quiet             No progress.
              -h, --help              Show help information.
            """
        let options = Self.options(help)
        #expect(options.map(\.flag) == ["--limit", "--lang", "--quiet"])
        #expect(options.map(\.short) == [nil, nil, "-q"])
        #expect(options.map { Self.stated(default: $0.text) } == ["20", "en", nil])
        let docs: [Substring] = [
            "## run", "| flag | meaning | default |", "| `--min-time`, `--max-time` | seconds, not `--other` | 1 |", "| `--pin/--no-pin` | pin | off |",
            "| `-q`, `--quiet` | quiet | progress |", "`--offline` in prose is not a row",
        ]
        #expect(Self.documentedFlags(docs) == ["--min-time", "--max-time", "--pin/--no-pin", "--quiet"])
    }
}
