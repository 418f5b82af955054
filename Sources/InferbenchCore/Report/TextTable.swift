/// A plain text table with right-aligned numeric columns.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]
    /// Columns aligned left (the rest align right).
    public var leftAligned: Set<Int>

    public init(headers: [String], rows: [[String]] = [], leftAligned: Set<Int> = [0]) {
        self.headers = headers
        self.rows = rows
        self.leftAligned = leftAligned
    }

    public func render() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            headers.indices.map { column in
                let text = cells.indices.contains(column) ? cells[column] : ""
                let pad = String(repeating: " ", count: widths[column] - text.count)
                return leftAligned.contains(column) ? text + pad : pad + text
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Number formatting shared by the renderers.
public enum Format {
    /// Milliseconds with three significant digits (`0.923`, `12.3`, `1234`).
    public static func ms(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        if value >= 100 { return String(format: "%.0f", value) }
        if value >= 10 { return String(format: "%.1f", value) }
        if value >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.3f", value)
    }

    public static func rate(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        if value >= 1000 { return String(format: "%.0f", value) }
        if value >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    public static func seconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return value >= 10 ? String(format: "%.0f s", value) : String(format: "%.2f s", value)
    }

    public static func percent(_ fraction: Double) -> String {
        String(format: "±%.1f%%", fraction * 100)
    }
}
