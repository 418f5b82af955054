/// What `load --target` reads of each inference response, in one pass over its JSON bytes: each
/// output's name, datatype, shape, binary size or number of values; every other key skipped.
///
/// Hand-written on purpose: every answer of a load test is checked, and with JSONDecoder
/// (Codable's generic containers) the check was a quarter of the generator's CPU at 16,000
/// requests/s on 2 cores, JSONSerialization a tenth at half that rate (benchmarks/http-generator.sh).
/// It accepts exactly JSON's grammar for the parts it reads and skips the rest by JSON's rules.
struct OIPResponseScan {
    struct Output: Equatable {
        var name = ""
        var datatype = ""
        var shape: [Int]?
        var binaryDataSize: Int?
        var dataCount: Int?
    }

    struct Malformed: Error {}

    /// The outputs of a response body; `Malformed` when it is not a JSON object with an
    /// `outputs` array of objects (each with a string name and datatype and a shape of integers).
    static func outputs(_ json: ArraySlice<UInt8>) throws(Malformed) -> [Output] {
        var scan = Cursor(bytes: json)
        var found: [Output]?
        try scan.object { (key, scan) throws(Malformed) in
            if key == "outputs" { found = try scan.array { scan throws(Malformed) in try scan.output() } } else { try scan.skip() }
        }
        scan.space()
        guard scan.atEnd, let found else { throw Malformed() }
        return found
    }

    fileprivate struct Cursor {
        let bytes: ArraySlice<UInt8>
        var at: Int

        init(bytes: ArraySlice<UInt8>) { (self.bytes, self.at) = (bytes, bytes.startIndex) }

        var atEnd: Bool { at >= bytes.endIndex }
        var next: UInt8? { at < bytes.endIndex ? bytes[at] : nil }

        mutating func space() {
            while let c = next, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { at += 1 }
        }

        mutating func take(_ c: UInt8) throws(Malformed) {
            space()
            guard next == c else { throw Malformed() }
            at += 1
        }

        /// `{ "key": value, ... }`, each value read by `member` (which must consume it).
        mutating func object(_ member: (String, inout Cursor) throws(Malformed) -> Void) throws(Malformed) {
            try take(UInt8(ascii: "{"))
            space()
            if next == UInt8(ascii: "}") { return at += 1 }
            while true {
                let key = try string()
                try take(UInt8(ascii: ":"))
                try member(key, &self)
                space()
                guard let c = next else { throw Malformed() }
                at += 1
                if c == UInt8(ascii: "}") { return }
                guard c == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        /// `[ value, ... ]`, each value read by `element`.
        mutating func array<T>(_ element: (inout Cursor) throws(Malformed) -> T) throws(Malformed) -> [T] {
            try take(UInt8(ascii: "["))
            var out: [T] = []
            space()
            if next == UInt8(ascii: "]") {
                at += 1
                return out
            }
            while true {
                out.append(try element(&self))
                space()
                guard let c = next else { throw Malformed() }
                at += 1
                if c == UInt8(ascii: "]") { return out }
                guard c == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        mutating func output() throws(Malformed) -> Output {
            var o = Output()
            var named = false
            var typed = false
            try object { (key, scan) throws(Malformed) in
                // Servers write absent optional members as null (KServe: "parameters": null).
                scan.space()
                if scan.next == UInt8(ascii: "n") { return try scan.word("null") }
                switch key {
                case "name": (o.name, named) = (try scan.string(), true)
                case "datatype": (o.datatype, typed) = (try scan.string(), true)
                case "shape": o.shape = try scan.array { scan throws(Malformed) in try scan.integer() }
                case "data": o.dataCount = try scan.leaves()
                case "parameters":
                    try scan.object { (key, scan) throws(Malformed) in
                        if key == "binary_data_size" { o.binaryDataSize = try scan.integer() } else { try scan.skip() }
                    }
                default: try scan.skip()
                }
            }
            guard named, typed, o.shape != nil else { throw Malformed() }
            return o
        }

        /// The values of a flat or nested array (numbers, booleans, strings, null).
        mutating func leaves() throws(Malformed) -> Int {
            space()
            guard next == UInt8(ascii: "[") else { throw Malformed() }
            var n = 0
            _ = try array { scan throws(Malformed) in
                scan.space()
                if scan.next == UInt8(ascii: "[") { n += try scan.leaves() } else { try scan.skip(); n += 1 }
            }
            return n
        }

        mutating func integer() throws(Malformed) -> Int {
            space()
            let negative = next == UInt8(ascii: "-")
            if negative { at += 1 }
            var value = 0
            var digits = 0
            while let c = next, c >= 0x30 && c <= 0x39 {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int(c - 0x30))
                guard !o1 && !o2 else { throw Malformed() }
                (value, digits, at) = (plus, digits + 1, at + 1)
            }
            guard digits > 0 else { throw Malformed() }
            if let c = next, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { throw Malformed() }
            return negative ? -value : value
        }

        mutating func string() throws(Malformed) -> String {
            try take(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while let c = next {
                at += 1
                switch c {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = next else { throw Malformed() }
                    at += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard at + 4 <= bytes.endIndex, let code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16) else {
                            throw Malformed()
                        }
                        at += 4
                        out.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    default: throw Malformed()
                    }
                case 0..<0x20: throw Malformed()
                default: out.append(c)
                }
            }
            throw Malformed()
        }

        /// Passes over one value of any kind.
        mutating func skip() throws(Malformed) {
            space()
            guard let c = next else { throw Malformed() }
            switch c {
            case UInt8(ascii: "{"): try object { (_, scan) throws(Malformed) in try scan.skip() }
            case UInt8(ascii: "["): _ = try array { scan throws(Malformed) in try scan.skip() }
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try word("true")
            case UInt8(ascii: "f"): try word("false")
            case UInt8(ascii: "n"): try word("null")
            default: try number()
            }
        }

        mutating func word(_ w: StaticString) throws(Malformed) {
            let n = w.utf8CodeUnitCount
            guard at + n <= bytes.endIndex else { throw Malformed() }
            for k in 0..<n where bytes[at + k] != w.utf8Start[k] { throw Malformed() }
            at += n
        }

        /// A JSON number: -?digits(.digits)?([eE][+-]?digits)?
        mutating func number() throws(Malformed) {
            if next == UInt8(ascii: "-") { at += 1 }
            func digits(_ cursor: inout Cursor) throws(Malformed) {
                let start = cursor.at
                while let c = cursor.next, c >= 0x30 && c <= 0x39 { cursor.at += 1 }
                guard cursor.at > start else { throw Malformed() }
            }
            try digits(&self)
            if next == UInt8(ascii: ".") {
                at += 1
                try digits(&self)
            }
            if let c = next, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                at += 1
                if let s = next, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { at += 1 }
                try digits(&self)
            }
        }
    }
}
