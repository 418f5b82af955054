import Foundation
import Testing

@testable import InferbenchCore

/// A terminal draws Chinese two columns wide: tables and wrapped notes count columns, not
/// characters, or a Chinese table's columns drift and its lines run past the width.
@Suite struct DisplayWidthTests {
    @Test func wideCharactersTakeTwoColumnsAndCombiningMarksNone() {
        #expect("p50 ms".displayWidth == 6)
        #expect("毫秒".displayWidth == 4)
        #expect("通过（0.066）".displayWidth == 13)
        #expect("e\u{301}".displayWidth == 1)
        #expect("\u{20000}".displayWidth == 2)
        #expect("한".displayWidth == 2)
        // Ambiguous-width marks count one column, as outside a CJK locale.
        #expect("— × °".displayWidth == 5)
    }

    @Test func aTableWithChineseCellsLinesUp() {
        var table = TextTable(headers: ["变体", "p50 毫秒", "数值误差"], leftAligned: [0])
        table.rows = [["eager/fp32", "4.00", "-"], ["默认/fp16", "12.0", "通过（0.066）"], ["max-autotune/fp32", "1234", "超出容差（0.5）"]]
        let lines = table.render().split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        // Every row ends in a right-aligned column: equal widths mean every column lines up.
        #expect(Set(lines.map(\.displayWidth)).count == 1, "\(lines.map(\.displayWidth))")
        // The right-aligned p50 figures end in the same column as their header.
        let ends = zip(lines, ["p50 毫秒", "", "4.00", "12.0", "1234"]).dropFirst(2).map { line, figure in
            line[..<line.range(of: figure)!.upperBound].displayWidth
        }
        let header = lines[0][..<lines[0].range(of: "p50 毫秒")!.upperBound].displayWidth
        #expect(ends == [header, header, header], "\(ends) vs \(header)")
    }

    @Test func chineseWrapsBetweenCharactersWithinTheWidthAndKeepsMarksWithTheirText() {
        let note = "警告：离群值（2 个单元）：" + String(repeating: "部分迭代为统计离群值，请让机器保持空闲（关闭其他负载），或用 --repeats 多测几轮。", count: 4)
        let lines = TextTable.hanging(note, width: 40).split(separator: "\n")
        #expect(lines.count > 4)
        #expect(lines.allSatisfy { $0.displayWidth <= 40 }, "\(lines.map(\.displayWidth))")
        // A line is filled: only the last may be much shorter than the width.
        #expect(lines.dropLast().allSatisfy { $0.displayWidth >= 36 }, "\(lines.map(\.displayWidth))")
        #expect(lines.dropFirst().allSatisfy { line in !"，。；：）」".contains(line.dropFirst(4).first ?? " ") })
        #expect(lines.joined().replacingOccurrences(of: "    ", with: "").contains("--repeats"))
    }

    @Test func englishStillBreaksOnlyAtSpaces() {
        let text = "warning: Outliers (2 cells): resnet50 default/fp32/bs1: 3 of 500 iterations are statistical outliers"
        #expect(
            TextTable.hanging(text, width: 40) == """
                warning: Outliers (2 cells): resnet50
                    default/fp32/bs1: 3 of 500
                    iterations are statistical outliers
                """)
    }
}
