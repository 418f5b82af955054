import Foundation

/// Results as CSV (RFC 4180: CRLF line ends; a field holding a comma, quote or line break
/// is quoted, with quotes doubled), for spreadsheets and pandas.
///
/// Numbers are written in full (shortest text that reads back the same value), in the units
/// the column names. A figure a cell does not have is an empty field, not an error: failed
/// cells have ids, variant, status and error only, and a percentile too few samples support
/// (see ``LatencySummary/supports(percentile:)``) is empty too.
public enum CSVReport {
    public static let cellColumns = [
        "cell_id", "model", "environment", "compile", "precision", "batch_size", "channels_last", "fullgraph", "dynamic", "device",
        "status", "error_kind", "error_message",
        "n", "mean_ms", "stddev_ms", "min_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms",
        "p50_ci95_low_ms", "p50_ci95_high_ms", "mean_ci95_low_ms", "mean_ci95_high_ms",
        "throughput_per_s", "throughput_ci95_low", "throughput_ci95_high", "throughput_source",
        "steps_per_call", "steps_per_s", "seconds_per_image",
        "speedup_vs_eager", "speedup_ci95_low", "speedup_ci95_high", "speedup_significant", "speedup_baseline",
        "load_s", "compile_s", "first_call_ms", "breakeven_iterations",
        "peak_allocated_mb", "peak_reserved_mb", "device_used_mb", "worker_rss_mb",
        "max_abs_err", "max_rel_err", "cosine", "within_tolerance", "graph_breaks", "recompiles", "warnings",
    ]

    /// The percentiles above the median, in column order.
    static var tails: [(Double, KeyPath<LatencySummary, Double>)] { [(90, \.p90), (95, \.p95), (99, \.p99), (99.9, \.p999)] }

    /// One row per cell.
    public static func cells(_ results: RunResults) -> String {
        let comparisons = ReportData.comparisons(results)
        let baselines = ReportData.baselineNames(results, comparisons)
        var out = line(cellColumns)
        for cell in results.cells {
            let v = cell.variant, l = cell.latencyMS, c = comparisons[cell.id]
            let n = Format.raw
            var row = [cell.id, cell.model, cell.environment, v.compile.rawValue, v.precision.rawValue, String(v.batchSize)]
            row += [bool(v.channelsLast), bool(v.fullgraph), v.dynamic.map(bool) ?? "", cell.device ?? ""]
            row += [cell.status.rawValue, cell.error?.kind.rawValue ?? "", cell.error?.message ?? ""]
            row += [l.map { String($0.n) } ?? "", n(l?.mean), n(l?.stddev), n(l?.min), n(l?.p50)]
            // A percentile the samples do not support (P99 of 40: their maximum) is left empty.
            row += tails.map { q, path in n(l?.supported(q, path)) } + [n(l?.max)]
            row += [n(l?.ci95.p50.lower), n(l?.ci95.p50.upper), n(l?.ci95.mean.lower), n(l?.ci95.mean.upper)]
            row += [n(cell.throughputPerS), n(cell.throughputCI95?.lower), n(cell.throughputCI95?.upper), cell.throughputSource ?? ""]
            row += [cell.stepsPerCall.map(String.init) ?? "", n(cell.stepsPerS), n(cell.secondsPerImage)]
            row += [n(c?.ratio), n(c?.ci95.lower), n(c?.ci95.upper), c.map { bool($0.significant) } ?? "", baselines[cell.id] ?? ""]
            let cs = cell.coldStart, m = cell.memoryMB, a = cell.accuracy
            row += [n(cs?.loadS), n(cs?.compileS), n(cs?.firstCallMS), n(cs?.breakevenIterations)]
            row += [n(m?.peakAllocated), n(m?.peakReserved), n(m?.deviceUsed), n(m?.workerRSS)]
            row += [n(a?.maxAbsErr), n(a?.maxRelErr), n(a?.cosine), a.map { bool($0.withinTolerance) } ?? ""]
            row += [cell.compileStats.map { String($0.graphBreaks) } ?? "", cell.compileStats.map { String($0.recompiles) } ?? ""]
            row.append(cell.warnings.map(\.kind.rawValue).joined(separator: ";"))
            out += line(row)
        }
        return out
    }

    /// Every raw latency sample: `cell_id,iteration,latency_ns`, iterations from 0.
    /// Cells without samples (failed, or results written without them) have no rows.
    public static func samples(_ results: RunResults) -> String {
        var out = line(["cell_id", "iteration", "latency_ns"])
        for cell in results.cells {
            let id = field(cell.id)
            for (i, ns) in (cell.samplesNS ?? []).enumerated() {
                out += "\(id),\(i),\(ns)\r\n"
            }
        }
        return out
    }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }

    static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    /// One RFC 4180 field.
    public static func field(_ text: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character that equals neither "\r" nor "\n".
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
