import Foundation
import Testing

@testable import InferbenchCore

/// One GPU through idle → busy (power-capped for three samples) → idle, every 100 ms, shaped
/// like an H100 recording; the energy counter grows by power × 0.1 s between samples.
enum RecordedGPU {
    // t, SM %, mem %, power W, energy J, temp C, SM MHz, throttle mask
    static let rows: [(Double, Double, Double, Double, Double, Double, Double, UInt64)] = [
        (10.0, 0, 0, 62, 1000.0, 34, 345, 0x1),
        (10.1, 0, 0, 62, 1006.2, 34, 345, 0x1),
        (10.2, 0, 0, 62, 1012.4, 34, 345, 0x1),
        (10.3, 2, 1, 70, 1019.4, 35, 1980, 0x0),
        (10.4, 90, 40, 300, 1049.4, 41, 1980, 0x0),
        (10.5, 95, 42, 320, 1081.4, 45, 1980, 0x4),
        (10.6, 100, 45, 330, 1114.4, 52, 1755, 0x4),
        (10.7, 95, 42, 310, 1145.4, 55, 1830, 0x4),
        (10.8, 90, 40, 300, 1175.4, 57, 1980, 0x0),
        (10.9, 0, 0, 70, 1182.4, 50, 345, 0x1),
        (11.0, 0, 0, 62, 1188.6, 46, 345, 0x1),
    ]

    static func samples(gpu: Int = 0, energy: Bool = true) -> [GPUSample] {
        rows.map { r in
            GPUSample(
                t: r.0, gpu: gpu, smUtil: r.1, memUtil: r.2, memUsedMB: 20_000 + r.1 * 100, memTotalMB: 81_559, powerW: r.3,
                powerLimitW: 700, energyJ: energy ? r.4 : nil, tempC: r.5, smClockMHz: r.6, memClockMHz: 2619, throttleReasons: r.7)
        }
    }

    static func timeline(_ gpu: [GPUSample] = samples()) -> Timeline {
        let host = rows.map { r in HostSample(t: r.0 + 0.002, cpuUtil: r.1 > 50 ? 60 : 5, processCPUUtil: r.1 > 50 ? 100 : 2, processRSSMB: 3000 + r.1) }
        return Timeline(interval: 0.1, gpu: gpu, host: host)
    }
}

@Suite struct TelemetryAggregateTests {
    @Test func busyPhaseMeansAndCounterEnergyInterpolatedAtTheEdges() throws {
        let a = RecordedGPU.timeline().aggregate(from: 10.35, to: 10.85, samplesProcessed: 1000)
        #expect(a.samples == 5)
        #expect(abs(a.gpuUtilMean! - 94) < 1e-9)
        #expect(a.gpuUtilMax == 100)
        #expect(abs(a.memUtilMean! - 41.8) < 1e-9)
        #expect(abs(a.powerWMean! - 312) < 1e-9)
        #expect(abs(a.smClockMHzMean! - 1905) < 1e-9)
        #expect(a.tempCMax == 57)
        #expect(a.memUsedMBMax == 30_000)
        // Counter at 10.35 is halfway 1019.4 → 1049.4 = 1034.4; at 10.85 halfway 1175.4 → 1182.4 = 1178.9.
        #expect(abs(a.energyJ! - 144.5) < 1e-6)
        #expect(abs(a.energyJPerSample! - 0.1445) < 1e-9)
        #expect(a.energySource == "counter")
        #expect(a.throttled)
        #expect(a.throttleReasons == ["SwPowerCap"])
        #expect(abs(a.throttledFraction! - 0.6) < 1e-9)
        #expect(a.hostCPUUtilMean == 60 && a.workerCPUUtilMean == 100 && a.workerRSSMBMax == 3100)
    }

    @Test func idleIsNotThrottlingButIsNamed() {
        let a = RecordedGPU.timeline().aggregate(from: 10.0, to: 10.25, samplesProcessed: nil)
        #expect(a.samples == 3)
        #expect(!a.throttled)
        #expect(a.throttleReasons == ["GpuIdle"])
        #expect(a.throttledFraction == 0)
        #expect(a.gpuUtilMean == 0)
        #expect(a.energyJPerSample == nil, "no samples processed given: no per-sample figure")
        #expect(abs(a.energyJ! - 15.9) < 1e-6, "1000 at 10.0, 1015.9 at 10.25 (halfway 1012.4 → 1019.4)")
    }

    @Test func withoutTheCounterEnergyIsMeanPowerTimesDuration() {
        let a = RecordedGPU.timeline(RecordedGPU.samples(energy: false)).aggregate(from: 10.35, to: 10.85, samplesProcessed: 1000)
        #expect(abs(a.energyJ! - 312 * 0.5) < 1e-6)
        #expect(abs(a.energyJPerSample! - 0.156) < 1e-9)
        #expect(a.energySource == "power")
    }

    @Test func aWindowShorterThanAnIntervalUsesTheNearestSamples() {
        let a = RecordedGPU.timeline().aggregate(from: 10.42, to: 10.43, samplesProcessed: 10)
        #expect(a.samples == 2)
        #expect(a.gpuUtilMean == 92.5)
        // 320 W between the 10.4 and 10.5 readings, for 10 ms.
        #expect(abs(a.energyJ! - 3.2) < 1e-6)
        #expect(abs(a.energyJPerSample! - 0.32) < 1e-6)
        #expect(a.throttled, "the 10.5 sample was power-capped")
    }

    @Test func aWindowPastTheLastSampleExtrapolatesTheCounter() {
        let a = RecordedGPU.timeline().aggregate(from: 10.95, to: 11.05, samplesProcessed: nil)
        // 1185.5 at 10.95 (interpolated), 1191.7 at 11.05 (62 W onwards).
        #expect(abs(a.energyJ! - 6.2) < 1e-6)
        #expect(a.samples == 1)
    }

    @Test func aWindowFarFromAnySampleHasNoFigures() {
        let a = RecordedGPU.timeline().aggregate(from: 20, to: 21, samplesProcessed: 100)
        #expect(a.samples == 0)
        #expect(a.gpuUtilMean == nil && a.energyJ == nil && a.energyJPerSample == nil && a.tempCMax == nil && a.hostCPUUtilMean == nil)
        #expect(!a.throttled && a.throttleReasons.isEmpty)
    }

    @Test func severalGPUsAddPowerAndEnergyAndCanBeSelected() {
        var hot = RecordedGPU.samples(gpu: 1)
        for i in hot.indices {
            hot[i].smUtil = hot[i].smUtil.map { $0 / 2 }
            hot[i].tempC = hot[i].tempC.map { $0 + 10 }
            hot[i].throttleReasons = 0x20
        }
        let both = zip(RecordedGPU.samples(gpu: 0), hot).flatMap { [$0, $1] }
        let timeline = RecordedGPU.timeline(both)
        let all = timeline.aggregate(from: 10.35, to: 10.85, samplesProcessed: 1000)
        #expect(abs(all.gpuUtilMean! - 70.5) < 1e-9)
        #expect(abs(all.powerWMean! - 624) < 1e-9)
        #expect(abs(all.energyJ! - 289) < 1e-6)
        #expect(all.tempCMax == 67)
        #expect(all.samples == 5)
        #expect(all.throttleReasons == ["SwPowerCap", "SwThermalSlowdown"])
        let one = timeline.aggregate(from: 10.35, to: 10.85, samplesProcessed: 1000, gpus: [0])
        #expect(abs(one.energyJ! - 144.5) < 1e-6)
        #expect(one.tempCMax == 57)
    }

    @Test func aNoGPUTimelineStillSumsUpTheHost() {
        var timeline = RecordedGPU.timeline([])
        timeline.unavailableReason = "no NVIDIA driver library"
        let a = timeline.aggregate(from: 10.35, to: 10.85, samplesProcessed: 1000)
        #expect(a.samples == 5)
        #expect(a.gpuUtilMean == nil && a.energyJ == nil && !a.throttled)
        #expect(a.hostCPUUtilMean == 60)
        #expect(a.unavailableReason == "no NVIDIA driver library")
    }

    @Test func jsonKeysAreTheContract() throws {
        let a = RecordedGPU.timeline().aggregate(from: 10.35, to: 10.85, samplesProcessed: 1000)
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(a)) as? [String: Any])
        let contract = [
            "gpu_util_mean", "gpu_util_max", "mem_util_mean", "power_w_mean", "energy_j", "energy_j_per_sample", "sm_clock_mhz_mean",
            "mem_used_mb_max", "temp_c_max", "throttled", "throttle_reasons", "host_cpu_util_mean", "worker_cpu_util_mean",
            "worker_rss_mb_max", "samples",
        ]
        for key in contract { #expect(object[key] != nil, "\(key) missing") }
        let sample = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(RecordedGPU.samples()[5])) as? [String: Any])
        #expect(Set(sample.keys).isSuperset(of: ["t", "gpu", "sm_util", "power_w", "energy_j", "throttle_reasons", "sm_clock_mhz"]))
        let decoded = try JSONDecoder().decode(Timeline.self, from: JSONEncoder().encode(RecordedGPU.timeline()))
        #expect(decoded.gpu == RecordedGPU.samples())
    }
}
