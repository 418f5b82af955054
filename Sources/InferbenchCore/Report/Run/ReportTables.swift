import Foundation

/// A table as the Markdown and HTML reports draw it: already formatted cells, and which
/// columns hold numbers (aligned right).
public struct ReportTable: Sendable, Equatable {
    public var headers: [String]
    public var rows: [[String]]
    public var numeric: Set<Int>
    /// Rows of failed or skipped cells.
    public var failed: Set<Int> = []
}

/// The tables of a report, built once from the results for every format.
enum ReportTables {
    /// One column per environment: where the numbers were measured.
    static func environment(_ results: RunResults, _ t: ReportText) -> ReportTable {
        let host = results.run.host
        let envs = results.environments
        func row(_ label: String, _ value: (EnvironmentRecord) -> String) -> [String] { [label] + envs.map(value) }
        let rows = [
            row(t.host) { _ in "\(host.hostname) (\(host.os))" },
            row(t.cpu) { _ in "\(host.cpu); \(t.cores(host.cores, memoryGB: (host.memoryMB / 1024 * 10).rounded() / 10))" },
            row(t.gpu) { env in env.gpus.isEmpty ? t.noGPU : env.gpus.map(gpuText).joined(separator: "; ") },
            row(t.driver) { env in env.gpus.first?.driver ?? "-" },
            row("Python") { env in [env.pythonVersion, "(\(env.python))"].compactMap { $0 }.joined(separator: " ") },
            row("PyTorch") { env in env.torch ?? "-" },
            row("CUDA") { env in env.cuda ?? "-" },
            row("cuDNN") { env in env.cudnn.map(cudnnText) ?? "-" },
            row("Triton") { env in env.triton ?? "-" },
            row(t.device) { env in env.device ?? "-" },
        ]
        return ReportTable(headers: [""] + envs.map(\.name), rows: rows, numeric: [])
    }

    /// cuDNN as a reader knows it: torch reports one integer, `91900` for 9.19.0 (from 9,
    /// major × 10000) and `8906` for 8.9.6 (before, major × 1000). Anything else stays as given.
    static func cudnnText(_ raw: String) -> String {
        guard let v = Int(raw), v >= 1000 else { return raw }
        let version = v >= 90000 ? "\(v / 10000).\(v / 100 % 100).\(v % 100)" : "\(v / 1000).\(v / 100 % 10).\(v % 100)"
        return "\(version) (\(raw))"
    }

    static func gpuText(_ gpu: EnvironmentRecord.GPU) -> String {
        var parts: [String] = []
        if let memory = gpu.memoryMB { parts.append("\(Format.megabytes(memory)) MB") }
        if let power = gpu.powerLimitW { parts.append(String(format: "%.0f W", power)) }
        return parts.isEmpty ? gpu.name : "\(gpu.name) (\(parts.joined(separator: ", ")))"
    }

    /// A model's cells, grouped by variant and then ascending batch size.
    static func cells(of model: String, in results: RunResults) -> [CellResult] {
        ReportData.seriesGroups(results.cells.filter { $0.model == model })
            .flatMap { $0.1.sorted { $0.variant.batchSize < $1.variant.batchSize } }
    }

    /// The summary of one model: latency, throughput, speedup, compile cost, memory, accuracy.
    static func summary(model: String, _ results: RunResults, _ t: ReportText) -> ReportTable {
        let cells = cells(of: model, in: results)
        let comparisons = ReportData.comparisons(results)
        // Each speedup names its baseline: in the header when the model's are all one.
        let baselines = ReportData.baselineNames(results, comparisons).filter { id, _ in cells.contains { $0.id == id } }
        let only = Set(baselines.values).count == 1 ? baselines.values.first : nil
        let multiEnv = Set(results.cells.map(\.environment)).count > 1
        let gpuMemory = cells.contains { $0.memoryMB?.peakAllocated != nil }
        let rssMemory = !gpuMemory && cells.contains { $0.memoryMB?.workerRSS != nil }
        let steps = cells.contains { $0.stepsPerCall != nil }
        var headers = [t.variant, t.batch, t.p50, t.p99, t.throughput]
        if steps { headers += [t.stepsPerS, t.secondsPerImage] }
        let speedupColumn = headers.count
        headers += [only.map(t.speedupVersus) ?? t.speedup, t.compileTime, t.breakeven]
        if gpuMemory { headers.append(t.peakGPU) }
        if rssMemory { headers.append(t.workerRSS) }
        headers.append(t.accuracy)
        var rows: [[String]] = []
        var failed = Set<Int>()
        for cell in cells {
            var row = [cell.variant.family, String(cell.variant.batchSize)]
            if cell.status == .ok, let l = cell.latencyMS {
                let eager = cell.variant.compile == .eager
                row += [
                    "\(Format.ms(l.p50)) \(Format.percent(l.relativeMedianHalfWidth))", l.supportedP99.map { Format.ms($0) } ?? "—",
                    Format.rate(cell.throughputPerS),
                ]
                if steps { row += [Format.rate(cell.stepsPerS), Format.secondsPerImage(cell.secondsPerImage)] }
                row += [
                    eager ? t.baseline : speedupText(comparisons[cell.id], t, versus: only == nil ? baselines[cell.id] : nil),
                    eager ? "-" : compileText(cell.coldStart, t),
                    eager ? "-" : breakevenText(cell, results.cells, t),
                ]
                if gpuMemory { row.append(Format.megabytes(cell.memoryMB?.peakAllocated)) }
                if rssMemory { row.append(Format.megabytes(cell.memoryMB?.workerRSS)) }
                row.append(accuracyText(cell.accuracy, t))
            } else {
                failed.insert(rows.count)
                row.append(t.failedCell(cell.error?.kind.rawValue ?? cell.status.rawValue, skipped: cell.status == .skipped))
                row += Array(repeating: "-", count: headers.count - 3)
            }
            rows.append(row)
        }
        var numeric = Set(1..<(headers.count - 1))
        numeric.remove(speedupColumn)
        if multiEnv {
            headers.insert(t.environmentColumn, at: 1)
            for (i, cell) in cells.enumerated() { rows[i].insert(cell.environment, at: 1) }
            numeric = Set(numeric.map { $0 + 1 })
        }
        return ReportTable(headers: headers, rows: rows, numeric: numeric, failed: failed)
    }

    /// Environments side by side: each cell of a later environment against the first's.
    static func environments(_ results: RunResults, _ t: ReportText) -> ReportTable? {
        let rows = ReportData.environmentComparisons(results)
        guard let first = rows.first else { return nil }
        return ReportTable(
            headers: [
                t.model, t.variant, t.punctuated(t.p50Only + " (\(first.base.environment))"), t.environmentColumn, t.p50Only,
                t.environmentSpeedup(first.base.environment),
            ],
            rows: rows.map { r in
                [
                    r.cell.model, r.cell.variant.label, Format.ms(r.base.latencyMS?.p50), r.cell.environment, Format.ms(r.cell.latencyMS?.p50),
                    speedupText(r.comparison, t),
                ]
            }, numeric: [2, 4, 5])
    }

    /// A speedup with its interval, and the baseline's name (`versus`) where the header has none.
    static func speedupText(_ c: Comparison?, _ t: ReportText, versus: String? = nil) -> String {
        guard let c else { return "-" }
        let against = versus.map { " " + t.versus($0) } ?? ""
        guard c.significant else { return t.noSignificantDifference + against }
        let text = Format.ratio(c.ratio, c.ci95.lower, c.ci95.upper) + against
        return c.ratio < 1 ? "\(text) \(t.slowerMark)" : text
    }

    /// Compile seconds, and in a batch sweep how this batch size was served.
    static func compileText(_ cold: ColdStart?, _ t: ReportText) -> String {
        let seconds = t.seconds(cold?.compileS)
        guard let reuse = cold?.batchReuse else { return seconds }
        return t.punctuated("\(seconds) (\(t.batchReuse(reuse)))")
    }

    static func breakevenText(_ cell: CellResult, _ all: [CellResult], _ t: ReportText) -> String {
        if let calls = cell.coldStart?.breakevenIterations { return Format.count(calls) }
        return Derived.baseline(for: cell, in: all) == nil ? "-" : t.never
    }

    static func accuracyText(_ a: Accuracy?, _ t: ReportText) -> String {
        guard let a else { return "-" }
        // Punctuated: `通过（0.066）` in Chinese, `ok (0.066)` in English.
        return t.punctuated("\(a.withinTolerance ? t.accuracyOK : t.accuracyBad) (\(String(format: "%.2g", a.maxAbsErr)))")
    }
}
