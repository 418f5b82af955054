import Foundation

/// A report file format that `inferbench report --format` accepts.
public enum ReportFormat: String, Sendable, CaseIterable {
    case md, html, csv, json

    /// The file names a format writes into the output folder.
    public var fileNames: [String] {
        switch self {
        case .md: return ["report.md"]
        case .html: return ["report.html"]
        case .csv: return ["cells.csv", "samples.csv"]
        case .json: return ["results.json"]
        }
    }
}

/// Writes rendered reports into a folder. The renderers stay pure; this is the only I/O.
public enum ReportFiles {
    /// Renders `formats` and writes them into `directory` (created if missing), each file
    /// atomically. Returns the paths written, in format order.
    ///
    /// `json` re-encodes the canonical results; when `directory` already holds the
    /// `results.json` that was read (`source`), that file is listed, not rewritten, so fields
    /// from a newer inferbench are never lost. An existing report is replaced, not an error.
    public static func write(
        _ results: RunResults, formats: [ReportFormat], language: ReportLanguage = .en, to directory: URL, source: URL? = nil
    ) throws(InferbenchError) -> [URL] {
        try OutputFolder.createDirectory(directory)
        var written: [URL] = []
        for format in formats {
            let contents: [String]
            switch format {
            case .md: contents = [MarkdownReport.render(results, language: language)]
            case .html: contents = [HTMLReport.render(results, language: language)]
            case .csv: contents = [CSVReport.cells(results), CSVReport.samples(results)]
            case .json:
                let target = directory.appending(path: "results.json")
                if let source, source.standardizedFileURL.resolvingSymlinksInPath() == target.standardizedFileURL.resolvingSymlinksInPath() {
                    written.append(target)
                    continue
                }
                do { try results.write(to: target) } catch { throw cannotWrite(target, error) }
                written.append(target)
                continue
            }
            for (name, text) in zip(format.fileNames, contents) {
                let url = directory.appending(path: name)
                do { try AtomicFile.write(text, to: url) } catch { throw cannotWrite(url, error) }
                written.append(url)
            }
        }
        return written
    }

    static func cannotWrite(_ url: URL, _ failure: AtomicFile.Failure) -> InferbenchError {
        let remedy = failure.isDiskFull ? "free space on that disk" : "check the folder's permissions"
        return .writeFailed("cannot write \(url.path): \(failure.reason); \(remedy), or pass --out to write elsewhere")
    }
}
