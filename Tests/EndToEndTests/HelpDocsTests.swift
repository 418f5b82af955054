import Foundation
import Testing

/// docs/cli.md cannot drift from `--help`: every flag of every command is in that command's
/// section of the docs, and where `--help` states a default, the docs state the same one.
@Suite struct HelpDocsTests {
    static let commands = ["run", "load", "report", "compare", "history", "doctor", "models", "monitor"]

    /// The options of a `--help` text: each flag with its whole (unwrapped) description.
    static func options(_ help: String) -> [(flag: String, text: String)] {
        guard let start = help.range(of: "OPTIONS:") else { return [] }
        var out: [(String, String)] = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let flag = trimmed.split(separator: " ").first(where: { $0.hasPrefix("--") }), line.hasPrefix("  ") && !line.hasPrefix("        ") {
                out.append((String(flag), trimmed))
            } else if !trimmed.isEmpty, !out.isEmpty {
                out[out.count - 1].1 += " " + trimmed
            }
        }
        return out.filter { $0.0 != "--help" && $0.0 != "--version" }
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
        for (flag, text) in options {
            let lines = section.filter { $0.contains("`\(flag)`") || $0.contains("`\(flag) ") || $0.contains(", \(flag)`") }
            #expect(!lines.isEmpty, "`\(command) \(flag)` is in --help but not in docs/cli.md's `## \(command)` section")
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
        #expect(options.map { Self.stated(default: $0.text) } == ["20", "en", nil])
    }
}
