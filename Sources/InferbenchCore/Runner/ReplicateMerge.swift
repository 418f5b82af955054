import Foundation

/// One cell's figures from the fresh processes that measured it (its replicates), made one.
///
/// Samples are pooled; the median's interval is the cluster bootstrap's over processes and
/// chunks (``ClusterBootstrap``); throughput's interval is on the log rate. A process that
/// failed leaves the others standing, and the cell says how many processes it rests on. A
/// process whose median lies outside the others' range is named, with the evidence.
enum ReplicateMerge {
    /// The merged cell of `replicas` (each one process's cell, in process order).
    static func merge(_ replicas: [(replicate: Int, cell: CellResult)], rule: StoppingRule) -> CellResult {
        let hasSamples = { (c: CellResult) in (c.samplesNS?.isEmpty == false) && c.latencyMS != nil }
        let measured = replicas.filter { hasSamples($0.cell) }.map(\.cell)
        let failures = replicas.filter { !hasSamples($0.cell) }
        guard var cell = measured.first else { return failedRecords(replicas) }

        let samples = measured.flatMap { $0.samplesNS ?? [] }
        var info = cell.measurement!
        info.processes = measured.compactMap { $0.measurement?.processes?.first } + failures.map(failedRecord)
        info.processes?.sort { $0.replicate < $1.replicate }
        info.chunkSizes = measured.flatMap { $0.measurement?.chunkSizes ?? [] }
        info.chunkRounds = measured.flatMap { $0.measurement?.chunkRounds ?? [] }
        info.chunkWindows = measured.flatMap { $0.measurement?.chunkWindows ?? [] }
        info.throughputRates = measured.compactMap { $0.measurement?.throughputRates?.first }
        info.measureSeconds = measured.reduce(0) { $0 + ($1.measurement?.measureSeconds ?? 0) }
        info.phaseStart = measured.compactMap { $0.measurement?.phaseStart }.min()
        info.phaseEnd = measured.compactMap { $0.measurement?.phaseEnd }.max()
        let overheads = measured.compactMap { $0.measurement?.launchOverheadMS }
        info.launchOverheadMS = overheads.isEmpty ? nil : Statistics.median(overheads)
        let discarded = measured.compactMap { $0.measurement?.switchCallsDiscarded }
        info.switchCallsDiscarded = discarded.isEmpty ? nil : discarded.reduce(0, +)
        let switchMedians = measured.compactMap { $0.measurement?.switchCallMedianMS }
        info.switchCallMedianMS = switchMedians.isEmpty ? nil : Statistics.median(switchMedians)
        let stops = measured.compactMap { $0.measurement?.stopReason }
        if stops.contains(.maxTime) { info.stopReason = .maxTime }
        cell.samplesNS = samples
        cell.measurement = info
        cell.status = measured.contains { $0.status == .ok } ? .ok : cell.status

        let pooled = LatencySamples(samples)
        var summary = pooled.summary()!
        let decision: StoppingRule.MeasureDecision
        if let estimate = ClusterBootstrap.median(clustered(cell)) {
            summary.ci95.p50 = Interval(estimate.lower / 1e6, estimate.upper / 1e6)
            cell.measurement?.intervalMethod = .clusterBootstrap
            cell.measurement?.intervalDF = estimate.degreesOfFreedom.isFinite ? estimate.degreesOfFreedom : nil
            let wide = estimate.relativeHalfWidth > rule.targetCI
            decision = rule.iterations != nil ? .fixedCountDone : wide && stops.contains(.maxTime) ? .maxTimeReached : .targetMet
        } else {
            decision = stops.contains(.maxTime) ? .maxTimeReached : .targetMet
        }
        cell.latencyMS = summary
        let ratios = outliers(cell).ratios
        var k = 0
        for i in (cell.measurement?.processes ?? []).indices where cell.measurement!.processes![i].samples > 0 && k < ratios.count {
            cell.measurement!.processes![i].ratioToOthers = ratios[k]
            k += 1
        }
        cell.memoryMB = largestMemory(measured.compactMap(\.memoryMB))
        cell.throughputPerS = nil
        fillThroughput(&cell)
        if let flops = cell.flopsPerSample, let tp = cell.throughputPerS { cell.achievedTFLOPS = flops * tp / 1e12 }
        cell.fillStepRates()
        cell.warnings = warnings(measured, failures: failures, merged: cell, summary: summary, rule: rule, decision: decision)
        return cell
    }

    /// Throughput from the chunks' back-to-back rates (their median over processes and chunks,
    /// the interval on the log scale, so never negative), else from the mean latency.
    static func fillThroughput(_ cell: inout CellResult) {
        let batch = Double(cell.variant.batchSize)
        let rates = cell.measurement?.throughputRates ?? []
        if rates.reduce(0, { $0 + $1.count }) >= 2,
            let estimate = ClusterBootstrap.median(Clustered(rates.map { $0.filter { $0 > 0 }.map { [$0] } }))
        {
            cell.throughputPerS = estimate.value
            cell.throughputCI95 = Interval(estimate.lower, estimate.upper)
            cell.throughputSource = "back_to_back"
        } else if let summary = cell.latencyMS {
            cell.throughputPerS = batch / (summary.mean / 1000)
            cell.throughputCI95 = Interval(batch / (summary.ci95.mean.upper / 1000), batch / (summary.ci95.mean.lower / 1000))
            cell.throughputSource = "latency_mean"
        }
    }

    /// A cell's samples as processes of chunks (nanoseconds). Results without chunk sizes are
    /// one process of one chunk.
    static func clustered(_ cell: CellResult) -> Clustered {
        let samples = (cell.samplesNS ?? []).map(Double.init)
        let sizes = cell.measurement?.chunkSizes ?? [samples.count]
        let perProcess = (cell.measurement?.processes ?? []).filter { $0.status == .ok || $0.samples > 0 }.map(\.chunks)
        let chunks = split(samples, sizes)
        guard perProcess.reduce(0, +) == chunks.count, !perProcess.isEmpty else { return Clustered([chunks]) }
        var out: [[[Double]]] = []
        var start = 0
        for n in perProcess {
            out.append(Array(chunks[start..<start + n]))
            start += n
        }
        return Clustered(out)
    }

    static func split(_ samples: [Double], _ sizes: [Int]) -> [[Double]] {
        guard sizes.reduce(0, +) == samples.count else { return [samples] }
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return Array(samples[start..<start + n])
        }
    }

    static func largestMemory(_ all: [MemoryFigures]) -> MemoryFigures? {
        guard var m = all.first else { return nil }
        func most(_ key: KeyPath<MemoryFigures, Double?>) -> Double? { all.compactMap { $0[keyPath: key] }.max() }
        m.peakAllocated = most(\.peakAllocated)
        m.peakReserved = most(\.peakReserved)
        m.deviceUsed = most(\.deviceUsed)
        m.workerRSS = most(\.workerRSS)
        m.compilePeakAllocated = most(\.compilePeakAllocated)
        m.compilePeakReserved = most(\.compilePeakReserved)
        m.compileRSSPeak = most(\.compileRSSPeak)
        return m
    }

    static func failedRecord(_ replica: (replicate: Int, cell: CellResult)) -> ProcessRecord {
        var record = ProcessRecord(replicate: replica.replicate, status: replica.cell.status == .skipped ? .skipped : .failed)
        record.error = replica.cell.error
        return record
    }

    /// No process measured anything: the first failure stands for the cell.
    static func failedRecords(_ replicas: [(replicate: Int, cell: CellResult)]) -> CellResult {
        var cell = replicas.first { $0.cell.status == .failed }?.cell ?? replicas[0].cell
        if replicas.count > 1 {
            cell.measurement = cell.measurement ?? emptyInfo()
            cell.measurement?.processes = replicas.map(failedRecord)
        }
        return cell
    }

    static func emptyInfo() -> MeasurementInfo {
        MeasurementInfo(clock: .perfCounter, warmupIterations: 0, warmupStable: false, stopReason: .running, measureSeconds: 0)
    }
}

extension ReplicateMerge {
    /// A process whose median lies outside the range of the others'.
    struct ProcessOutlier {
        var record: ProcessRecord
        var ratio: Double
        var othersMedianMS: Double
        /// Chunks on the same side of the others' median as the process's median.
        var chunksBeyond: Int
    }

    /// Whether some two processes' intervals do not overlap: they disagree beyond what each
    /// knows about itself.
    static func disagree(_ records: [ProcessRecord]) -> Bool {
        let intervals = records.compactMap(\.ci95)
        guard intervals.count >= 2 else { return false }
        return intervals.contains { a in intervals.contains { b in a.upper < b.lower } }
    }

    /// Each process's median over the pooled others', and the processes that lie beyond every
    /// other process's interval by at least 5% (smaller gaps change no decision).
    static func outliers(_ cell: CellResult) -> (ratios: [Double?], outliers: [ProcessOutlier]) {
        let data = clustered(cell).processes
        let records = (cell.measurement?.processes ?? []).filter { $0.samples > 0 }
        guard data.count == records.count, data.count >= 2 else { return (records.map { _ in nil }, []) }
        var ratios: [Double?] = []
        var found: [ProcessOutlier] = []
        for i in data.indices {
            let mine = Quickselect.median(data[i].flatMap { $0 })
            let others = Quickselect.median(data.indices.filter { $0 != i }.flatMap { data[$0].flatMap { $0 } })
            let ratio = mine / others
            ratios.append(ratio)
            let hull = records.indices.filter { $0 != i }.compactMap { records[$0].ci95 }
            guard let lo = hull.map(\.lower).min(), let hi = hull.map(\.upper).max(), abs(ratio - 1) >= 0.05 else { continue }
            let outside = mine / 1e6 < lo || mine / 1e6 > hi
            guard outside else { continue }
            let beyond = data[i].filter { chunk in (Quickselect.median(chunk) > others) == (ratio > 1) }.count
            found.append(ProcessOutlier(record: records[i], ratio: ratio, othersMedianMS: others / 1e6, chunksBeyond: beyond))
        }
        return (ratios, found)
    }

    static func warnings(
        _ measured: [CellResult], failures: [(replicate: Int, cell: CellResult)], merged: CellResult, summary: LatencySummary,
        rule: StoppingRule, decision: StoppingRule.MeasureDecision
    ) -> [CellWarning] {
        var out = Outliers.warnings(for: (merged.samplesNS ?? []).map(Double.init), summary: summary, rule: rule, decision: decision)
        // Warnings about the variant, not the samples, from every process, once per kind.
        let carried: Set<WarningKind> = [.warmupUnstable, .accuracy, .verifyFailed, .recompiledWhileMeasuring, .throttled]
        for w in measured.flatMap(\.warnings) where carried.contains(w.kind) && !out.contains(where: { $0.kind == w.kind }) {
            out.append(w)
        }
        let total = measured.count + failures.count
        if !failures.isEmpty {
            let why = failures.map { "process \($0.replicate): \($0.cell.error.map { "\($0.kind): \($0.message)" } ?? "not run")" }
            out.append(
                CellWarning(
                    kind: .processFailed,
                    message: "rests on \(measured.count) of \(total) processes; " + why.joined(separator: "; ")))
        }
        let apart = outliers(merged).outliers
        for o in apart {
            out.append(CellWarning(kind: .processOutlier, message: describe(o, of: total, all: merged.measurement?.processes ?? [])))
        }
        // Pooled samples of a process apart from the others are bimodal by construction: the
        // process warning names the cause. So are processes that landed in two states.
        if !apart.isEmpty { out.removeAll { $0.kind == .bimodal } }
        if let split = processSplit(merged), out.contains(where: { $0.kind == .bimodal || $0.kind == .outliers }) {
            out.removeAll { $0.kind == .bimodal || $0.kind == .outliers }
            out.append(CellWarning(kind: .processOutlier, message: split))
        }
        return out
    }

    /// Processes whose medians fall into two groups at least 10% apart (as on a VM where some
    /// processes land in a slow state for their whole life), described; nil when they do not.
    static func processSplit(_ cell: CellResult) -> String? {
        let records = (cell.measurement?.processes ?? []).filter { $0.samples > 0 && $0.medianMS != nil }
        guard records.count >= 3 else { return nil }
        let sorted = records.sorted { $0.medianMS! < $1.medianMS! }
        // The widest gap between consecutive process medians splits them.
        var cut = 1
        for i in 1..<sorted.count where sorted[i].medianMS! / sorted[i - 1].medianMS! > sorted[cut].medianMS! / sorted[cut - 1].medianMS! {
            cut = i
        }
        let fast = sorted[..<cut], slow = sorted[cut...]
        let lo = Statistics.median(fast.map { $0.medianMS! }), hi = Statistics.median(slow.map { $0.medianMS! })
        guard hi / lo >= 1.10 else { return nil }
        let names = { (group: ArraySlice<ProcessRecord>) in group.map { String($0.replicate) }.sorted().joined(separator: ", ") }
        return String(
            format:
                "processes landed in two states for their whole life: %@ near %@ ms, %@ near %@ ms (%.2f×); the pooled latency is bimodal because of it, not because of recompiles. Its cause lies below the process (driver or hypervisor); the interval includes both states",
            "process\(fast.count == 1 ? "" : "es") \(names(fast))", Format.ms(lo), "process\(slow.count == 1 ? "" : "es") \(names(slow))",
            Format.ms(hi), hi / lo)
    }

    /// "process 2 of 3 ran 2.05× slower than the others (8.85 vs 4.31 ms) for its whole life …"
    static func describe(_ o: ProcessOutlier, of total: Int, all: [ProcessRecord]) -> String {
        let r = o.ratio
        let how = r > 1 ? String(format: "%.2f× slower", r) : String(format: "%.2f× faster", 1 / r)
        let when =
            o.chunksBeyond == o.record.chunks ? "for its whole life (all \(o.record.chunks) chunks)" : "in \(o.chunksBeyond) of \(o.record.chunks) chunks"
        var evidence: [String] = []
        if let s = o.record.state {
            if let n = s.involuntarySwitches { evidence.append("\(Format.count(Double(n))) involuntary context switches") }
            if let n = s.migrations { evidence.append("\(n) CPU migrations") }
            if let f = s.onCPUFraction { evidence.append(String(format: "timing thread on a CPU %.0f%% of the time", f * 100)) }
            if let h = s.hostCPUUtil { evidence.append(String(format: "host CPU %.0f%%", h)) }
            if let g = s.gcCollections, g > 0 { evidence.append("\(g) GC collections") }
        }
        let others = all.filter { $0.replicate != o.record.replicate }.compactMap(\.launchOverheadMS)
        if let mine = o.record.launchOverheadMS, !others.isEmpty {
            evidence.append("launch overhead \(Format.ms(mine)) vs \(Format.ms(Statistics.median(others))) ms")
        }
        let median = o.record.medianMS.map(Format.ms) ?? "?"
        return "process \(o.record.replicate) of \(total) ran \(how) than the others (\(median) vs \(Format.ms(o.othersMedianMS)) ms) \(when)"
            + (evidence.isEmpty ? "" : "; " + evidence.joined(separator: ", "))
            + ". Its cause lies below the process (driver or hypervisor) when these look normal; the interval includes it."
    }
}
