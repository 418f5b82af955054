import Foundation
import Testing

/// `inferbench report` end to end.
@Suite(.serialized) struct ReportCommandTests {
    let dir = CLI.temporaryDirectory()

    @Test func writesEveryFormatNextToTheResultsAndPrintsThePaths() throws {
        let results = try ResultsFiles.write(into: dir.appending(path: "run"))
        let r = try CLI.run(["report", results.deletingLastPathComponent().path, "--format", "md,html,csv,json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let folder = results.deletingLastPathComponent()
        let names = ["report.md", "report.html", "cells.csv", "samples.csv", "results.json"]
        #expect(r.stdout == names.map { folder.appending(path: $0).path + "\n" }.joined())
        for name in names { #expect(FileManager.default.fileExists(atPath: folder.appending(path: name).path), "\(name) missing") }
        let md = try String(contentsOf: folder.appending(path: "report.md"), encoding: .utf8)
        #expect(md.contains("## Results: mlp") && md.contains("2.00× ["))
    }

    @Test func outAndChinese() throws {
        let results = try ResultsFiles.write(into: dir.appending(path: "run"))
        let out = dir.appending(path: "elsewhere/reports")
        let r = try CLI.run(["report", results.path, "--format", "md", "--lang", "zh", "--out", out.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout == out.appending(path: "report.md").path + "\n")
        let md = try String(contentsOf: out.appending(path: "report.md"), encoding: .utf8)
        #expect(md.contains("推理性能可行性报告"))
    }

    @Test func summaryPrintsWhatRunPrinted() throws {
        let results = try ResultsFiles.write(into: dir.appending(path: "summary"))
        let r = try CLI.run(["report", results.path, "--summary", "--format", "none"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("p50 ms") && r.stdout.contains("2.00× [") && r.stdout.contains("cells ok"), "\(r.stdout)")
        let written = try FileManager.default.contentsOfDirectory(atPath: results.deletingLastPathComponent().path)
        #expect(written == ["results.json"], "wrote \(written)")
        let nothing = try CLI.run(["report", results.path, "--format", "none"])
        #expect(nothing.status == 64 && nothing.stderr.contains("--summary"))
    }

    @Test func badInputExits64() throws {
        let missing = try CLI.run(["report", dir.appending(path: "missing").path])
        #expect(missing.status == 64 && missing.stderr.contains("no such file or folder"))
        let results = try ResultsFiles.write(into: dir.appending(path: "run"))
        let lang = try CLI.run(["report", results.path, "--lang", "fr"])
        #expect(lang.status == 64 && lang.stderr.contains("'fr' is invalid for '--lang") && lang.stderr.contains("'en' and 'zh'"))
        let format = try CLI.run(["report", results.path, "--format", "pdf"])
        #expect(format.status == 64 && format.stderr.contains("--format pdf"))
    }
}
