import Foundation

/// Recorded send offsets to replay open-loop (`load --trace FILE`): each request is due at its
/// recorded offset, and its latency counts from there, so a stall shows in every request it
/// delays (no coordinated omission), as with the synthetic schedules.
///
/// Two formats, told apart line by line:
/// - CSV: the first field of each line is the offset in seconds (an optional header line whose
///   first field is not a number, e.g. `offset_s`, is skipped); further fields are refused,
///   since per-request shapes are not replayed yet.
/// - JSON lines: `{"offset_s": 0.0123}`; other keys are refused likewise.
/// Blank lines and lines starting with `#` are skipped. Offsets must be finite, ≥ 0 and
/// non-decreasing; every problem names the file and line, before any worker starts.
public struct TraceFile: Sendable, Equatable {
    public var name: String
    public var offsets: [Double]

    public init(name: String, offsets: [Double]) {
        self.name = name
        self.offsets = offsets
    }

    /// Requests per second over the trace's span (its last offset), or its count when all
    /// requests are due at 0.
    public var meanRate: Double {
        guard let last = offsets.last, last > 0 else { return Double(offsets.count) }
        return Double(offsets.count) / last
    }

    /// The step length that replays every request: the last offset plus one mean gap (at
    /// least 1 ms), so the last request is due inside the step.
    public var span: Double {
        guard let last = offsets.last else { return 0 }
        return last + max(0.001, last / Double(max(offsets.count - 1, 1)))
    }

    public static func load(path: String) throws(InferbenchError) -> TraceFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .badInput("--trace \(path): cannot read the file (\(error.localizedDescription)); give a CSV or JSON-lines file of send offsets")
        }
        return try parse(text, name: path)
    }

    public static func parse(_ text: String, name: String) throws(InferbenchError) -> TraceFile {
        var offsets: [Double] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let at = "--trace \(name) line \(index + 1)"
            guard let offset = try offset(in: line, at: at, headerAllowed: offsets.isEmpty) else { continue }
            guard offset.isFinite, offset >= 0 else { throw .badInput("\(at): offset \(line) is negative or not finite; give seconds ≥ 0") }
            if let previous = offsets.last, offset < previous {
                throw .badInput("\(at): offset \(Format.raw(offset)) s comes before the previous line's \(Format.raw(previous)) s; sort the trace by time")
            }
            offsets.append(offset)
        }
        guard !offsets.isEmpty else { throw .badInput("--trace \(name): no send offsets in the file; give one offset in seconds per line") }
        let trace = TraceFile(name: (name as NSString).lastPathComponent, offsets: offsets)
        if let refusal = ArrivalSchedule.refusal(rate: trace.meanRate, flag: "--trace \(name)") { throw .badInput(refusal) }
        return trace
    }

    /// The offset of one line; nil for a CSV header (only before the first offset).
    static func offset(in line: String, at: String, headerAllowed: Bool) throws(InferbenchError) -> Double? {
        if line.hasPrefix("{") {
            guard let data = line.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw .badInput("\(at): not a JSON object; give {\"offset_s\": SECONDS}")
            }
            guard let value = object["offset_s"] as? NSNumber, !(value is Bool), object.count == 1 else {
                throw .badInput("\(at): give {\"offset_s\": SECONDS} and nothing else (per-request shapes are not replayed yet)")
            }
            return value.doubleValue
        }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let value = Double(fields[0]) else {
            if headerAllowed && fields[0].range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil { return nil }
            throw .badInput("\(at): \(fields[0]) is not a number of seconds")
        }
        guard fields.count == 1 else {
            throw .badInput("\(at): one field per line, the offset in seconds (per-request shapes are not replayed yet)")
        }
        return value
    }
}
