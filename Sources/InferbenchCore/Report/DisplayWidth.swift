/// How many terminal columns text takes. A terminal draws CJK ideographs, Hangul and
/// full-width punctuation two columns wide and combining marks in no column of their own, so
/// counting characters misaligns a Chinese table and lets a Chinese line run past the width.
///
/// Not an error: characters whose width depends on the terminal (East Asian "ambiguous":
/// `—`, `×`, `°`) count as one column, as terminals outside a CJK locale draw them.
extension String {
    var displayWidth: Int { unicodeScalars.reduce(0) { $0 + $1.displayWidth } }
}

extension Substring {
    var displayWidth: Int { unicodeScalars.reduce(0) { $0 + $1.displayWidth } }

    /// The longest start of this text that fits `width` columns (at least one character, so
    /// that cutting a long word always moves on).
    func prefix(columns width: Int) -> Substring {
        var used = 0
        var end = startIndex
        for ch in self {
            let w = String(ch).displayWidth
            if used + w > width, end > startIndex { break }
            used += w
            end = index(after: end)
        }
        return self[startIndex..<end]
    }
}

extension Unicode.Scalar {
    /// East Asian Wide and Fullwidth ranges (UAX #11), the blocks a report's Chinese uses.
    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
        0x20000...0x3FFFD,
    ]

    var displayWidth: Int {
        switch properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: return Self.wideRanges.contains { $0.contains(value) } ? 2 : 1
        }
    }
}
