import Foundation
import Testing

@testable import InferbenchCore

@Suite struct TelemetryMonitorReportTests {
    static let offset = 1_764_162_261.123  // t = 100 is 2025-11-26T13:06:01.123Z
    static let utc = TimeZone(identifier: "UTC")!
    static let gpu = GPUSample(
        t: 100, gpu: 0, smUtil: 95, memUtil: 42, memUsedMB: 30500, memTotalMB: 81559, powerW: 320.4, powerLimitW: 700,
        energyJ: 1081.4, tempC: 45, smClockMHz: 1980, memClockMHz: 2619, throttleReasons: 0x4)
    static let host = HostSample(t: 100.01, cpuUtil: 12.5, memUsedMB: 5000, memTotalMB: 24152.0586)

    @Test func csvHasOneRowPerGPUWithWallAndMonotonicTime() {
        #expect(MonitorReport.csvHeader.hasPrefix("time,t_mono_s,gpu,sm_util,mem_util,mem_used_mb,"))
        let row = MonitorReport.csvRows(gpu: [Self.gpu], host: Self.host, wallClockOffset: Self.offset)
        #expect(row == "2025-11-26T13:06:01.123Z,100.000,0,95,42,30500,81559,320.4,700,1081.4,45,1980,2619,0x4,SwPowerCap,,,12.5,5000,24152.059,,\n")
        #expect(row.split(separator: ",", omittingEmptySubsequences: false).count == MonitorReport.csvColumns.count)
    }

    @Test func csvWithoutGPUsHasHostOnlyRows() {
        let row = MonitorReport.csvRows(gpu: [], host: Self.host, wallClockOffset: Self.offset)
        let fields = row.dropLast().split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields.count == MonitorReport.csvColumns.count)
        #expect(fields[0] == "2025-11-26T13:06:01.133Z" && fields[1] == "100.010" && fields[2] == "")
        #expect(fields.suffix(5) == ["12.5", "5000", "24152.059", "", ""])
    }

    @Test func aTimelineGroupsGPURowsWithTheirTick() {
        var second = Self.gpu
        second.gpu = 1
        second.t = 100.001
        var later = Self.host
        later.t = 100.11
        later.cpuUtil = 50
        var g = Self.gpu
        g.t = 100.1
        let timeline = Timeline(interval: 0.1, gpu: [Self.gpu, second, g], host: [Self.host, later], wallClockOffset: Self.offset)
        let lines = MonitorReport.csv(timeline).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1].hasSuffix(",12.5,5000,24152.059,,") && lines[2].hasSuffix(",12.5,5000,24152.059,,"))
        #expect(lines[2].split(separator: ",")[2] == "1")
        #expect(lines[3].hasPrefix("2025-11-26T13:06:01.223Z,100.100,0,") && lines[3].hasSuffix(",50,5000,24152.059,,"))
    }

    @Test func terminalLinesLineUpWithTheHeader() {
        let line = MonitorReport.gpuLine(Self.gpu, wallClock: Date(timeIntervalSince1970: 100 + Self.offset), timeZone: Self.utc)
        #expect(line == " 13:06:01    0    95    42   30500   320    45   1980   2619  SwPowerCap\n")
        let header = MonitorReport.gpuHeader.split(separator: "\n")
        for (label, value) in [("gpu", "0"), ("sm", "95"), ("fb", "30500"), ("mclk", "2619")] {
            #expect(header[0].range(of: label)?.upperBound.utf16Offset(in: header[0]) == line.range(of: " \(value) ")!.upperBound.utf16Offset(in: line) - 1)
        }
        var idle = Self.gpu
        idle.throttleReasons = 0
        idle.powerW = nil
        #expect(MonitorReport.gpuLine(idle, wallClock: Date(timeIntervalSince1970: 0), timeZone: Self.utc).hasSuffix("    -    45   1980   2619  -\n"))
        let hostLine = MonitorReport.hostLine(Self.host, wallClock: Date(timeIntervalSince1970: 0), timeZone: Self.utc)
        #expect(hostLine == " 00:00:00  12.5        5000       24152           -           -\n")
        let hostHeader = MonitorReport.hostHeader.split(separator: "\n")
        #expect(hostHeader.allSatisfy { $0.count == hostLine.count - 1 })
    }

    @Test func iso8601RoundsToTheMillisecond() {
        #expect(MonitorReport.iso8601(1_764_162_361.123) == "2025-11-26T13:06:01.123Z")
        #expect(MonitorReport.iso8601(1_764_162_361.9996) == "2025-11-26T13:06:02.000Z")
        #expect(MonitorReport.iso8601(0) == "1970-01-01T00:00:00.000Z")
    }
}
