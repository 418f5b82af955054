import Foundation

/// `inferbench history`: one line per stored run, newest first.
public enum HistoryReport {
    /// Renders the runs; an empty list says so and how to fill the store.
    public static func render(_ runs: [RunSummary], store: String) -> String {
        guard !runs.isEmpty else { return "No runs in \(store) match; `inferbench run` records each run here.\n" }
        let table = TextTable(
            headers: ["id", "started (UTC)", "status", "models", "environments", "cells ok", "best p50 (ms)"],
            rows: runs.map(row), leftAligned: [0, 1, 2, 3, 4, 6])
        return table.render()
    }

    /// The `recommend` searches, after the runs: what `recommend --resume ID` and `--check ID` take.
    public static func render(searches: [RecommendSummary]) -> String {
        guard !searches.isEmpty else { return "" }
        let table = TextTable(
            headers: ["search id", "started (UTC)", "status", "model", "P99 bound", "answer", "folder"],
            rows: searches.map { s in
                [s.id, started(s.startedAt), s.status.rawValue, s.model, "\(Format.trimmed(s.slaP99MS)) ms", s.answer ?? "-", s.folder]
            }, leftAligned: [0, 1, 2, 3, 5, 6])
        return "\nRecommend searches (continue one with `inferbench recommend --resume ID`):\n" + table.render()
    }

    static func started(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeSeparator: .colon).year().month().day().time(
                includingFractionalSeconds: false))
    }

    static func row(_ run: RunSummary) -> [String] {
        let started = started(run.startedAt)
        let environments = run.environments.map { env in env.torch.map { "\(env.name) (torch \($0))" } ?? env.name }
        let cells =
            run.kind == .load && run.cellsTotal == 0
            ? "load test" + (run.loadWindows > 0 ? ", \(run.loadWindows) window\(run.loadWindows == 1 ? "" : "s")" : "")
            : "\(run.cellsOK)/\(run.cellsTotal)"
        let best = run.models.compactMap { model in run.bestP50[model].map { "\(model) \(Format.ms($0))" } }
        return [
            run.id, started, run.status.rawValue, run.models.isEmpty ? "-" : run.models.joined(separator: ", "),
            environments.isEmpty ? "-" : environments.joined(separator: ", "), cells, best.isEmpty ? "-" : best.joined(separator: ", "),
        ]
    }
}
