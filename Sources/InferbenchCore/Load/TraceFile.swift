import Foundation

/// Recorded send offsets to replay open-loop (`load --trace FILE`), each with the request's
/// length where the trace has one: each request is due at its recorded offset, and its
/// latency counts from there, so a stall shows in every request it delays (no coordinated
/// omission), as with the synthetic schedules.
///
/// Two formats, told apart line by line:
/// - CSV: the offset in seconds, then optionally the request's sequence length in tokens
///   (`0.0123,128`); an optional header line whose first field is not a number (e.g.
///   `offset_s,seq`) is skipped.
/// - JSON lines: `{"offset_s": 0.0123}` or `{"offset_s": 0.0123, "seq": 128}`.
/// Blank lines and lines starting with `#` are skipped. Offsets must be finite, ≥ 0 and
/// non-decreasing; lengths whole numbers ≥ 1, on every line or on none. Every problem names
/// the file and line, before any worker starts.
public struct TraceFile: Sendable, Equatable {
    public var name: String
    public var offsets: [Double]
    /// Each request's length, in send order; nil when the trace has none.
    public var lengths: [Int]?

    public init(name: String, offsets: [Double], lengths: [Int]? = nil) {
        self.name = name
        self.offsets = offsets
        self.lengths = lengths
    }

    /// The trace's lengths as a distribution (what the padding buckets and the warm-up are
    /// made from); nil when the trace has none.
    public var sequenceLengths: SequenceLengths? { lengths.map { SequenceLengths(.empirical($0, source: "trace:\(name)")) } }

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
        var lengths: [Int] = []
        var firstLine = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let at = "--trace \(name) line \(index + 1)"
            guard let (offset, length) = try request(in: line, at: at, headerAllowed: offsets.isEmpty) else { continue }
            guard offset.isFinite, offset >= 0 else { throw .badInput("\(at): offset \(line) is negative or not finite; give seconds ≥ 0") }
            if let previous = offsets.last, offset < previous {
                throw .badInput("\(at): offset \(Format.raw(offset)) s comes before the previous line's \(Format.raw(previous)) s; sort the trace by time")
            }
            if offsets.isEmpty { firstLine = index + 1 }
            // Lengths on every line or on none: the first request decides which.
            if !offsets.isEmpty, (length != nil) != !lengths.isEmpty {
                throw .badInput(
                    "\(at): \(length == nil ? "no length, while line \(firstLine) has one" : "a length, while line \(firstLine) has none"); give every request a length, or none"
                )
            }
            offsets.append(offset)
            if let length { lengths.append(length) }
        }
        guard !offsets.isEmpty else { throw .badInput("--trace \(name): no send offsets in the file; give one offset in seconds per line") }
        let trace = TraceFile(name: (name as NSString).lastPathComponent, offsets: offsets, lengths: lengths.isEmpty ? nil : lengths)
        if let refusal = ArrivalSchedule.refusal(rate: trace.meanRate, flag: "--trace \(name)") { throw .badInput(refusal) }
        return trace
    }

    /// The offset and length of one line; nil for a CSV header (only before the first offset).
    static func request(in line: String, at: String, headerAllowed: Bool) throws(InferbenchError) -> (Double, Int?)? {
        if line.hasPrefix("{") {
            let usage = "give {\"offset_s\": SECONDS} or {\"offset_s\": SECONDS, \"seq\": TOKENS}"
            guard let data = line.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw .badInput("\(at): not a JSON object; \(usage)")
            }
            // Decoded, not cast: NSNumber 1 passes for a Bool on Linux, and true for a number.
            struct Request: Decodable {
                var offset_s: Double
                var seq: Double?
            }
            guard Set(object.keys).isSubset(of: ["offset_s", "seq"]), let request = try? JSONDecoder().decode(Request.self, from: data) else {
                throw .badInput("\(at): \(usage) and nothing else")
            }
            guard let seq = request.seq else { return (request.offset_s, nil) }
            return (request.offset_s, try length(seq == seq.rounded() && abs(seq) < 1e15 ? Int(seq) : nil, text: Format.raw(seq), at: at))
        }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let value = Double(fields[0]) else {
            if headerAllowed && fields[0].range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil { return nil }
            throw .badInput("\(at): \(fields[0]) is not a number of seconds")
        }
        guard fields.count <= 2 else {
            throw .badInput("\(at): at most two fields per line, the offset in seconds and the request's length in tokens")
        }
        return (value, fields.count == 2 ? try length(Int(fields[1]), text: fields[1], at: at) : nil)
    }

    static func length(_ number: Int?, text: String, at: String) throws(InferbenchError) -> Int {
        guard let number, (1...SequenceLengths.most).contains(number) else {
            throw .badInput("\(at): length \(text) is not a whole number of tokens from 1 to \(SequenceLengths.most)")
        }
        return number
    }
}
