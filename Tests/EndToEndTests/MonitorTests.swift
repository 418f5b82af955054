import Foundation
import InferbenchCore
import Testing

/// `inferbench monitor`, the real binary. On a machine without NVIDIA's driver it must say so
/// once and show the host; with one, it shows one line per GPU per sample.
@Suite(.serialized) struct MonitorTests {
    static let hasGPU: Bool = {
        if case .success(let nvml) = NVML.open() { return nvml.deviceCount > 0 }
        return false
    }()

    @Test func countSamplesToTheTerminalAndCSV() throws {
        let csv = CLI.temporaryDirectory().appending(path: "monitor.csv")
        let r = try CLI.run(["monitor", "--count", "3", "--interval", "100", "--csv", csv.path], timeout: 60)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == Substring(MonitorReport.csvColumns.joined(separator: ",")))
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.allSatisfy { $0.count == MonitorReport.csvColumns.count })
        #expect(rows.allSatisfy { $0[0].hasSuffix("Z") && $0[0].contains("T") && Double($0[1]) != nil })
        let shown = r.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        if Self.hasGPU {
            #expect(!r.stderr.contains("no GPU telemetry"))
            #expect(rows.count % 3 == 0 && rows.count >= 3 && rows.allSatisfy { Int($0[2]) != nil })
            #expect(shown.count == rows.count)
        } else {
            #expect(r.stderr.contains("no GPU telemetry: no NVIDIA driver library (libnvidia-ml.so.1)"))
            #expect(r.stderr.components(separatedBy: "no GPU telemetry").count == 2, "said once: \(r.stderr)")
            #expect(r.stderr.contains("showing the host's CPU and memory instead"))
            #expect(r.stdout.hasPrefix("#Time       cpu    mem_used"))
            #expect(shown.count == 3)
            #expect(rows.count == 3)
            #expect(rows.allSatisfy { $0[2].isEmpty && Double($0[17]) != nil && Double($0[19]) != nil }, "host-only rows")
            let times = rows.compactMap { Double($0[1]) }
            #expect(zip(times.dropFirst(), times).allSatisfy { abs($0 - $1 - 0.1) < 0.05 }, "100 ms apart: \(times)")
        }
    }

    @Test func ctrlCEndsItCleanly() throws {
        let csv = CLI.temporaryDirectory().appending(path: "monitor.csv")
        let r = try CLI.run(["monitor", "--interval", "50", "--csv", csv.path], timeout: 60) { pid in
            Thread.sleep(forTimeInterval: 1.0)
            kill(pid, SIGINT)
        }
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.count >= 5, "\(rows.count) rows in about a second at 50 ms")
        #expect(!r.stderr.contains("error"))
    }

    @Test func badFlagsAreRejectedWithTheFix() throws {
        let interval = try CLI.run(["monitor", "--interval", "5", "--count", "1"])
        #expect(interval.status == 64)
        #expect(interval.stderr.contains("--interval 5: give at least 10"))
        let gpus = try CLI.run(["monitor", "--gpus", "zero", "--count", "1"])
        #expect(gpus.status == 64)
        #expect(gpus.stderr.contains("--gpus 0,1"))
        let csv = try CLI.run(["monitor", "--count", "1", "--csv", "/nonexistent/dir/monitor.csv"])
        #expect(csv.status == 64)
        #expect(csv.stderr.contains("--csv /nonexistent/dir/monitor.csv: cannot write"))
    }
}
