import Foundation

/// What `inferbench monitor` prints: a terminal view like `nvidia-smi dmon -s u,m,p,c -o T`
/// (one line per GPU per sample) and CSV (one row per GPU per sample, host columns alongside).
///
/// Not an error: a nil field, shown as `-` on the terminal and empty in CSV. With no GPU,
/// the terminal shows host lines and CSV has one host-only row per sample (empty `gpu`).
public enum MonitorReport {
    public static let gpuHeader = """
        #Time      gpu    sm   mem      fb   pwr  temp   sclk   mclk  throttle
        #HH:MM:SS  Idx     %     %     MiB     W     C    MHz    MHz

        """

    /// One GPU's line; `throttle` lists NVML's reason names (`-` for none).
    public static func gpuLine(_ s: GPUSample, wallClock: Date, timeZone: TimeZone = .current) -> String {
        let reasons = s.throttleReasons.map { ThrottleReasons(rawValue: $0).names.joined(separator: ",") } ?? ""
        return " " + clock(wallClock, timeZone) + "  "
            + [
                pad(String(s.gpu), 3), num(s.smUtil, 5), num(s.memUtil, 5), num(s.memUsedMB, 7), num(s.powerW, 5), num(s.tempC, 5),
                num(s.smClockMHz, 6), num(s.memClockMHz, 6),
            ].joined(separator: " ")
            + "  " + (reasons.isEmpty ? "-" : reasons) + "\n"
    }

    public static let hostHeader = """
        #Time       cpu    mem_used   mem_total     pid_cpu     pid_rss
        #HH:MM:SS     %         MiB         MiB           %         MiB

        """

    /// The host's line, shown instead of GPU lines when there is no GPU telemetry; `pid_*` are
    /// the watched processes (`--pid`), percent of one core and resident MiB.
    public static func hostLine(_ s: HostSample, wallClock: Date, timeZone: TimeZone = .current) -> String {
        " " + clock(wallClock, timeZone)
            + [
                num(s.cpuUtil, 6, decimals: 1), num(s.memUsedMB, 11), num(s.memTotalMB, 11), num(s.processCPUUtil, 11, decimals: 1),
                num(s.processRSSMB, 11),
            ].joined(separator: " ") + "\n"
    }

    public static let csvColumns = [
        "time", "t_mono_s", "gpu", "sm_util", "mem_util", "mem_used_mb", "mem_total_mb", "power_w", "power_limit_w",
        "energy_j", "temp_c", "sm_clock_mhz", "mem_clock_mhz", "throttle_mask", "throttle_reasons", "pcie_tx_kbs",
        "pcie_rx_kbs", "host_cpu_util", "host_mem_used_mb", "host_mem_total_mb", "pid_cpu_util", "pid_rss_mb",
    ]

    public static var csvHeader: String { csvColumns.joined(separator: ",") + "\n" }

    /// The rows of one tick: one per GPU sample, or one host-only row when there is none.
    /// `time` is ISO-8601 UTC (t + `wallClockOffset`), `t_mono_s` the monotonic stamp.
    public static func csvRows(gpu: [GPUSample], host: HostSample, wallClockOffset: Double) -> String {
        let hostFields = [csv(host.cpuUtil), csv(host.memUsedMB), csv(host.memTotalMB), csv(host.processCPUUtil), csv(host.processRSSMB)]
        guard !gpu.isEmpty else {
            return ([iso8601(host.t + wallClockOffset), String(format: "%.3f", host.t)] + Array(repeating: "", count: 15) + hostFields)
                .joined(separator: ",") + "\n"
        }
        return gpu.map { s in
            let mask = s.throttleReasons
            let fields = [
                iso8601(s.t + wallClockOffset), String(format: "%.3f", s.t), String(s.gpu), csv(s.smUtil), csv(s.memUtil),
                csv(s.memUsedMB), csv(s.memTotalMB), csv(s.powerW), csv(s.powerLimitW), csv(s.energyJ), csv(s.tempC),
                csv(s.smClockMHz), csv(s.memClockMHz), mask.map { String(format: "0x%llx", $0) } ?? "",
                mask.map { ThrottleReasons(rawValue: $0).names.joined(separator: ";") } ?? "", csv(s.pcieTxKBs), csv(s.pcieRxKBs),
            ]
            return (fields + hostFields).joined(separator: ",") + "\n"
        }.joined()
    }

    /// A whole timeline as CSV: header, then each tick's rows (GPU samples belong to the host
    /// sample that follows them, as the sampler reads GPUs first).
    public static func csv(_ timeline: Timeline) -> String {
        var out = csvHeader
        var next = 0
        for host in timeline.host {
            let end = next + timeline.gpu[next...].prefix { $0.t <= host.t }.count
            out += csvRows(gpu: Array(timeline.gpu[next..<end]), host: host, wallClockOffset: timeline.wallClockOffset)
            next = end
        }
        return out
    }

    /// What watching cost, for stderr when monitoring ends.
    public static func costLine(_ cost: SamplerCost, interval: Double) -> String {
        guard let cpu = cost.cpuMSPerSample, let wall = cost.wallMSPerSample else { return "sampler: no samples taken\n" }
        return String(
            format: "sampler: %d samples every %.0f ms; %.3f ms CPU and %.3f ms wall per sample (max %.3f ms), %.2f%% of one core, %d missed\n",
            cost.samples, interval * 1000, cpu, wall, cost.wallMSMax ?? wall, cost.cpuPercent ?? 0, cost.missed)
    }

    /// `2025-11-26T13:06:01.123Z`.
    public static func iso8601(_ unixSeconds: Double) -> String {
        let millis = (unixSeconds * 1000).rounded()
        let whole = (millis / 1000).rounded(.down)
        let ms = Int(millis - whole * 1000)
        let seconds = Date(timeIntervalSince1970: whole)
        let c = calendar(TimeZone(identifier: "UTC")!).dateComponents([.year, .month, .day, .hour, .minute, .second], from: seconds)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, ms)
    }

    static func clock(_ date: Date, _ timeZone: TimeZone) -> String {
        let c = calendar(timeZone).dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d:%02d:%02d", c.hour!, c.minute!, c.second!)
    }

    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    static func num(_ value: Double?, _ width: Int, decimals: Int = 0) -> String {
        pad(value.map { String(format: "%.\(decimals)f", $0) } ?? "-", width)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Up to three decimals, without trailing zeros; empty for nil.
    static func csv(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
