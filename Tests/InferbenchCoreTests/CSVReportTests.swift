import Foundation
import Testing

@testable import InferbenchCore

@Suite struct CSVReportTests {
    /// A strict RFC 4180 reader: records end with CRLF, quoted fields may hold anything.
    static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            if quoted {
                if c == "\"" {
                    if scalars.first == "\"" { field.unicodeScalars.append(c); scalars.removeFirst() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                record.append(field); field = ""
            } else if c == "\r" && scalars.first == "\n" {
                scalars.removeFirst()
                record.append(field); field = ""
                records.append(record); record = []
            } else {
                field.unicodeScalars.append(c)
            }
        }
        return records
    }

    @Test func fieldsAreQuotedPerRFC4180() {
        #expect(CSVReport.field("plain") == "plain")
        #expect(CSVReport.field("a,b") == "\"a,b\"")
        #expect(CSVReport.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVReport.field("two\nlines") == "\"two\nlines\"")
        #expect(CSVReport.field("crlf\r\nhere") == "\"crlf\r\nhere\"")
        #expect(CSVReport.field("") == "")
    }

    @Test func oneRowPerCellWithEveryColumn() throws {
        var results = ReportFixture.results()
        results.cells[9].error?.message = "out of memory, \"2 GiB\"\r\nat line 3"
        let text = CSVReport.cells(results)
        #expect(text.hasSuffix("\r\n"))
        let rows = Self.parse(text)
        #expect(rows.count == results.cells.count + 1)
        #expect(rows[0] == CSVReport.cellColumns)
        #expect(rows.allSatisfy { $0.count == CSVReport.cellColumns.count })
        func column(_ name: String, _ row: Int) -> String { rows[row][CSVReport.cellColumns.firstIndex(of: name)!] }
        #expect(column("cell_id", 2) == "resnet50|default|default/fp32/bs1")
        #expect(column("p50_ms", 2) == "4")
        #expect(column("p50_ci95_low_ms", 2) == "3.96")
        #expect(column("speedup_vs_eager", 2) == "2.5")
        #expect(column("speedup_significant", 2) == "true")
        #expect(column("breakeven_iterations", 2) == "5500")
        #expect(column("peak_allocated_mb", 2) == "130")
        #expect(column("compile_s", 2) == "33")
        #expect(column("within_tolerance", 9) == "false")
        #expect(column("graph_breaks", 9) == "2")
        #expect(column("warnings", 9) == "outliers")
        // A failed cell: ids, variant, status and error, the figures empty.
        #expect(column("status", 10) == "failed")
        #expect(column("error_kind", 10) == "oom")
        #expect(column("error_message", 10) == "out of memory, \"2 GiB\"\r\nat line 3")
        #expect(column("p50_ms", 10) == "" && column("throughput_per_s", 10) == "")
    }

    @Test func rawSamples() {
        let rows = Self.parse(CSVReport.samples(ReportFixture.results()))
        #expect(
            rows == [
                ["cell_id", "iteration", "latency_ns"],
                ["resnet50|default|eager/fp32/bs1", "0", "10000000"],
                ["resnet50|default|eager/fp32/bs1", "1", "10100000"],
                ["resnet50|default|eager/fp32/bs1", "2", "9900000"],
            ])
    }

    @Test func numbersAreWrittenInFull() {
        #expect(Format.raw(0.1 + 0.2) == "0.30000000000000004")
        #expect(Format.raw(3) == "3")
        #expect(Format.raw(nil) == "")
        #expect(Format.raw(.infinity) == "inf" && Format.raw(.nan) == "nan")
    }
}
