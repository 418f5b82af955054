/// A plain text table with right-aligned numeric columns.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]
    /// Columns aligned left (the rest align right).
    public var leftAligned: Set<Int>
    /// Columns wrapped at this many characters (after a comma or at a space), the rest of the
    /// text on the lines below, so that a long list does not widen the whole table.
    public var wrapWidths: [Int: Int] = [:]

    public init(headers: [String], rows: [[String]] = [], leftAligned: Set<Int> = [0]) {
        self.headers = headers
        self.rows = rows
        self.leftAligned = leftAligned
    }

    public func render() -> String {
        // Each row as its physical lines: a wrapped cell continues below, the others are blank there.
        func physical(_ cells: [String]) -> [[String]] {
            let columns = headers.indices.map { column -> [String] in
                let text = cells.indices.contains(column) ? cells[column] : ""
                return wrapWidths[column].map { Self.wrap(text, width: $0) } ?? [text]
            }
            let height = columns.map(\.count).max() ?? 1
            return (0..<height).map { i in columns.map { i < $0.count ? $0[i] : "" } }
        }
        let lines = [[headers]] + rows.map(physical)
        let all = lines.flatMap { $0 }
        // Terminal columns, not characters: a Chinese cell is twice as wide as its count.
        let widths = headers.indices.map { column in all.map { $0[column].displayWidth }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            headers.indices.map { column in
                let text = cells[column]
                let pad = String(repeating: " ", count: widths[column] - text.displayWidth)
                return leftAligned.contains(column) ? text + pad : pad + text
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += lines.dropFirst().flatMap { $0 }.map(line)
        return out.joined(separator: "\n") + "\n"
    }

    /// A note line wrapped at `width` terminal columns (the design width of a terminal: 100),
    /// its continuation lines indented so that each note still reads as one. Lines break at
    /// spaces and, in Chinese, between characters (never before a closing mark).
    /// A word longer than a line (a path, a URL) is cut where the line ends.
    public static func hanging(_ text: String, width: Int = 100, indent: Int = 4) -> String {
        guard text.displayWidth > width else { return text }
        var lines: [String] = []
        var line = ""
        for (joint, piece) in words(text) {
            var word = piece
            var limit: Int { lines.isEmpty ? width : width - indent }
            if !line.isEmpty, line.displayWidth + joint.count + word.displayWidth > limit {
                lines.append(line)
                line = ""
            }
            while line.isEmpty, word.displayWidth > limit {
                let cut = word.prefix(columns: limit)
                lines.append(String(cut))
                word = word.dropFirst(cut.count)
            }
            line += line.isEmpty ? String(word) : joint + word
        }
        if !line.isEmpty { lines.append(line) }
        let pad = String(repeating: " ", count: indent)
        return lines.enumerated().map { $0.offset == 0 ? $0.element : pad + $0.element }.joined(separator: "\n")
    }

    /// The words of a line, each with what joins it to the one before: a space, or nothing
    /// where Chinese allows a break without one. English splits only at spaces, so its lines
    /// break where they always did.
    static func words(_ text: String) -> [(joint: String, word: Substring)] {
        text.split(separator: " ", omittingEmptySubsequences: false).flatMap { chunk in
            var pieces: [(joint: String, word: Substring)] = []
            var start = chunk.startIndex
            var previous: Character?
            for i in chunk.indices {
                let ch = chunk[i]
                if let previous, breaks(between: previous, and: ch) {
                    pieces.append((pieces.isEmpty ? " " : "", chunk[start..<i]))
                    start = i
                }
                previous = ch
            }
            pieces.append((pieces.isEmpty ? " " : "", chunk[start...]))
            return pieces
        }
    }

    /// Chinese breaks beside any wide character, but a closing mark stays with what it closes
    /// and an opening mark with what it opens, as Chinese typesetting keeps them.
    static func breaks(between previous: Character, and next: Character) -> Bool {
        let closing: Set<Character> = ["，", "。", "、", "；", "：", "！", "？", "）", "」", "』", "”", "》", ",", ".", ";", ":", "!", "?", ")", "]", "%", "×"]
        let opening: Set<Character> = ["（", "「", "『", "“", "《", "(", "["]
        guard !closing.contains(next), !opening.contains(previous) else { return false }
        return String(previous).displayWidth > 1 || String(next).displayWidth > 1
    }

    /// Greedy wrap at `width` terminal columns: breaks after a comma, a `|` or `;` (the
    /// alternatives of a parameter, `dist=constant|normal|…`) or at a space; a word longer than
    /// the width stands on its own line.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard text.displayWidth > width, width > 0 else { return [text] }
        var pieces: [String] = []
        var current = ""
        for ch in text {
            current.append(ch)
            if ch == "," || ch == " " || ch == "|" || ch == ";" || ch == "，" || ch == "、" {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        var lines: [String] = []
        var line = ""
        for piece in pieces {
            if !line.isEmpty, (line + piece).trimmingTrailingSpaces().displayWidth > width {
                lines.append(line.trimmingTrailingSpaces())
                line = ""
            }
            line += line.isEmpty ? String(piece.drop { $0 == " " }) : piece
        }
        if !line.isEmpty { lines.append(line.trimmingTrailingSpaces()) }
        return lines
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

    /// Seconds, `14 s` or `1.50 s`; `unit` is the language's (`秒` in Chinese sentences).
    public static func seconds(_ value: Double?, unit: String = "s") -> String {
        guard let value, value.isFinite else { return "-" }
        return (value >= 10 ? String(format: "%.0f", value) : String(format: "%.2f", value)) + " " + unit
    }

    public static func percent(_ fraction: Double) -> String {
        String(format: "±%.1f%%", fraction * 100)
    }
}
