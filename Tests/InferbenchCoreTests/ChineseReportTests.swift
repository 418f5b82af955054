import Foundation
import Testing

@testable import InferbenchCore

/// English left behind in a Chinese report.
///
/// An English sentence is a run of three or more English words with nothing but spaces and
/// ASCII punctuation between them. A word is two or more letters (`worker`, `offered`); a
/// token with a digit, `-`, `/`, `_` or `.` inside is a name, a flag, a unit or a number
/// (`resnet50`, `--max-delay`, `default/fp16`, `it/s`, `0.01`) and ends the run, as does any
/// Chinese character or punctuation. Left out before looking: code (`<code>`, backticks),
/// verbatim quotes 「…」 (a worker's own error text), markup, and the run's own data (host,
/// GPU and CPU names, the command line), which no translation should touch.
enum EnglishSentences {
    /// Terms a Chinese sentence keeps in English: abbreviations and the names of things.
    static let terms: Set<String> = [
        "ms", "mb", "gb", "mib", "gpu", "cpu", "sla", "ipc", "worker", "eager", "rss", "nvml", "cuda", "cudnn", "torch", "python", "pytorch",
        "triton", "ci", "sm", "qps", "mlperf", "loadgen", "inductor", "fp", "html",
    ]

    /// The text a reader reads: no code, quotes, markup or recorded data.
    static func prose(_ text: String, data: [String]) -> String {
        var text = text
        for pattern in ["<style>[\\s\\S]*?</style>", "<code>[\\s\\S]*?</code>", "`[^`]*`", "「[^」]*」", "<[^>]*>"] {
            text = text.replacingOccurrences(of: pattern, with: "\n", options: .regularExpression)
        }
        for value in data where !value.isEmpty { text = text.replacingOccurrences(of: value, with: "\n") }
        return text.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"")
    }

    /// ASCII `,:;?!()` touching a Chinese character, with a little context each.
    static func asciiPunctuation(_ text: String, data: [String] = []) -> [String] {
        let pattern = "\\p{Han}[,:;?!(]|[,:;?!)]\\p{Han}"
        let prose = prose(text, data: data)
        return prose.ranges(of: try! Regex(pattern)).map { range in
            let from = prose.index(range.lowerBound, offsetBy: -8, limitedBy: prose.startIndex) ?? prose.startIndex
            let to = prose.index(range.upperBound, offsetBy: 8, limitedBy: prose.endIndex) ?? prose.endIndex
            return String(prose[from..<to])
        }
    }

    static func find(_ text: String, data: [String] = []) -> [String] {
        let text = prose(text, data: data)
        var found: [String] = []
        for segment in text.split(whereSeparator: { !$0.isASCII || $0 == "\n" || $0 == "|" }) {
            var run: [Substring] = []
            let tokens: [Substring] = segment.split(separator: " ") + [""]
            for token in tokens {
                let word: String = token.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!?()'\"*_[]"))
                if word.count >= 2, word.allSatisfy(\.isLetter), !terms.contains(word.lowercased()) {
                    run.append(token)
                    continue
                }
                if run.count >= 3 { found.append(run.joined(separator: " ")) }
                run = []
            }
        }
        return found
    }
}

/// `--lang zh` leaves no English sentence in any report of a run or a load test.
@Suite struct ChineseReportTests {
    /// The fixtures' own data: names and the command, as recorded.
    static func data(_ results: RunResults) -> [String] {
        [results.run.command, results.run.host.cpu, results.run.host.os, results.run.host.hostname]
            + results.environments.flatMap { env in env.gpus.map(\.name) + [env.python] }
    }

    @Test func theDetectorFindsEnglishSentencesAndLeavesNamesAlone() {
        #expect(EnglishSentences.find("延迟 p50 毫秒:the step completed fewer than 100 requests。") == [":the step completed fewer than"])
        #expect(EnglishSentences.find("| resnet50 | default/fp16/bs8 | 3.05 | --max-delay 0 |").isEmpty)
        #expect(EnglishSentences.find("<code>inferbench run --model resnet50 and more words</code>").isEmpty)
        #expect(EnglishSentences.find("失败(显存不足):「CUDA out of memory, tried to allocate」").isEmpty)
        #expect(EnglishSentences.find("GPU SM 利用率 %, worker RSS MB").isEmpty)
        #expect(EnglishSentences.find("偏慢;look for memory growth").count == 1)
        #expect(EnglishSentences.find("AMD EPYC Platinum Processor", data: ["AMD EPYC Platinum Processor"]).isEmpty)
        #expect(EnglishSentences.asciiPunctuation("样本/秒,p50").count == 1)
        #expect(EnglishSentences.asciiPunctuation("样本(目标)数").count == 2)
        #expect(EnglishSentences.asciiPunctuation("样本/秒\u{FF0C}p50 与\u{FF08}目标\u{FF09}、--concurrency 8,16").isEmpty)
        #expect(
            ReportText.chinesePunctuation("失败(oom):「x, y」;P(X ≤ k | n, 1%) 与 8,16")
                == "失败\u{FF08}oom\u{FF09}\u{FF1A}「x, y」\u{FF1B}P(X ≤ k | n, 1%) 与 8,16")
    }

    @Test(arguments: ["run", "load"]) func everyReportIsChinese(_ kind: String) {
        let results = kind == "run" ? ReportFixture.results() : LoadFixture.results()
        var outputs = [
            ("report.md", MarkdownReport.render(results, language: .zh)),
            ("report.html", HTMLReport.render(results, language: .zh)),
        ]
        if kind == "load" {
            // The terminal table and `report --summary --lang zh` of a load test.
            outputs.append(("terminal", LoadReport.render(results.loadTests, load: results.load, language: .zh)))
        } else {
            // `report --summary --lang zh` of a run, and with --verbose its per-cell detail too.
            for verbose in [false, true] {
                let summary = TerminalReport.summary(results, layout: TerminalLayout(width: 100, verbose: verbose), language: .zh)
                outputs.append(("terminal\(verbose ? " --verbose" : "")", summary))
            }
        }
        for (name, text) in outputs {
            let english = EnglishSentences.find(text, data: Self.data(results))
            #expect(english.isEmpty, "\(kind) \(name) --lang zh still has English: \(english)")
            let marks = EnglishSentences.asciiPunctuation(text, data: Self.data(results))
            #expect(marks.isEmpty, "\(kind) \(name) --lang zh has ASCII punctuation in Chinese: \(marks)")
        }
    }

    @Test func accuracyIsNotPrecisionAndOfferedIsTheTargetRate() {
        let run = MarkdownReport.render(ReportFixture.results(), language: .zh)
        #expect(run.contains("数值误差") && !run.contains("精度("))
        let terminal = TerminalReport.summary(ReportFixture.results(), layout: TerminalLayout(verbose: true), language: .zh)
        #expect(terminal.contains("数值误差：") && !terminal.contains("精度"))
        let load = HTMLReport.render(LoadFixture.results(), language: .zh)
        #expect(load.contains("目标速率") && !load.contains("提供"))
        #expect(load.contains("泊松 400.0 请求/秒"))
    }

    /// Chinese sentences and table cells write seconds as 秒, as they write milliseconds as 毫秒,
    /// and a cell's parentheses are full-width; English keeps `s` and its ASCII marks.
    @Test func oneUnitStyleAndChineseMarksInCells() {
        let results = ReportFixture.results()
        let zh = MarkdownReport.render(results, language: .zh) + TerminalReport.summary(results, layout: TerminalLayout(verbose: true), language: .zh)
        #expect(zh.contains("通过（0") && !zh.contains("通过 ("))
        #expect(zh.contains(" 秒") && zh.ranges(of: /\d s\b/).isEmpty, "\(zh.matches(of: /.{12}\d s\b.{4}/).map(\.output))")
        let en = MarkdownReport.render(results, language: .en)
        #expect(en.contains("ok (0") && en.contains("33 s"))
        #expect(ReportText(.zh).seconds(14) == "14 秒" && ReportText(.en).seconds(1.5) == "1.50 s")
    }

    @Test func warningsAreWordedFromTheirKindAndTheStepsFigures() {
        var step = LoadFixture.step(1)
        step.errors = 24
        let t = ReportText(.zh)
        #expect(t.loadWarning(CellWarning(kind: .errors, message: "24 requests failed"), step: step).hasPrefix("24 个请求失败"))
        #expect(t.cellWarning(.outliers, message: "3 of 500 iterations are statistical outliers").contains("离群值"))
        #expect(ReportText(.en).cellWarning(.outliers, message: "as recorded") == "as recorded")
    }
}
