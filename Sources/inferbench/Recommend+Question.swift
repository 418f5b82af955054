import ArgumentParser
import Foundation
import InferbenchCore

extension Recommend {
    func validate() throws {
        if check != nil || resume != nil {
            let given = [
                model, slaP99, peakQps, headroom, gpuPrice, maxMemoryMb, maxColdStart, compile, precision, maxBatch, maxDelay, workers, device, seed, step,
            ]
            if planFile != nil || given.contains(where: { $0 != nil }) || channelsLast || out != nil {
                throw ValidationError(
                    "\(check != nil ? "--check" : "--resume") answers the question saved in its folder: drop the other settings\(resume != nil ? " (only --budget may change)" : "")"
                )
            }
            if check != nil, resume != nil { throw ValidationError("give --check or --resume, not both") }
            if check != nil, budget != nil { throw ValidationError("--check measures once: drop --budget") }
            return
        }
        do { _ = try makeQuestion() } catch { throw ValidationError(error.description) }
    }

    /// The question from the plan file and the flags (flags win), every value checked.
    func makeQuestion() throws(InferbenchError) -> RecommendQuestion {
        let file = try planFile.map { (p: String) throws(InferbenchError) in try RecommendPlanFile.read(path: p) } ?? [:]
        func value(_ flag: String?, _ key: String) -> String? { flag ?? file[key] }
        guard let modelText = value(model, "model") else { throw .badInput("recommend needs a model: give --model, e.g. --model resnet50") }
        let spec = try ModelSpec(parsing: modelText)
        guard let slaText = value(slaP99, "sla-p99") else { throw .badInput("recommend needs the P99 bound: give --sla-p99 MS, e.g. --sla-p99 15") }
        let deviceChoice = try value(device, "device").map { (d: String) throws(InferbenchError) in try DeviceChoice(parsing: d) } ?? .auto
        let gpu = Self.searchesGPU(deviceChoice)
        let defaults = SearchSpace.defaults(gpu: gpu)
        let space = SearchSpace(
            compile: try value(compile, "compile").map { (s: String) throws(InferbenchError) in try Self.kinds(s, flag: "--compile") } ?? defaults.compile,
            precision: try value(precision, "precision").map { (s: String) throws(InferbenchError) in try Self.kinds(s, flag: "--precision") }
                ?? defaults.precision,
            maxBatch: try value(maxBatch, "max-batch").map { (s: String) throws(InferbenchError) in
                try Self.numbers(s, flag: "--max-batch", range: 1...4096, example: "8,32").map { Int($0) }
            } ?? defaults.maxBatch,
            maxDelayMS: try value(maxDelay, "max-delay").map { (s: String) throws(InferbenchError) in
                try Self.numbers(s, flag: "--max-delay", range: 0...10_000, example: "1,2,5", whole: false)
            } ?? defaults.maxDelayMS,
            workers: try value(workers, "workers").map { (s: String) throws(InferbenchError) in
                try Self.numbers(s, flag: "--workers", range: 1...64, example: "1,2").map { Int($0) }
            } ?? defaults.workers)
        var q = RecommendQuestion(
            model: spec.description, slaP99MS: try Self.positive(slaText, flag: "--sla-p99"), space: space, device: deviceChoice,
            channelsLast: channelsLast || file["channels-last"].map { ["true", "yes", "1"].contains($0.lowercased()) } == true)
        q.peakQPS = try value(peakQps, "peak-qps").map { (s: String) throws(InferbenchError) in try Self.positive(s, flag: "--peak-qps") }
        q.gpuPricePerHour = try value(gpuPrice, "gpu-price").map { (s: String) throws(InferbenchError) in try Self.positive(s, flag: "--gpu-price") }
        q.maxMemoryMB = try value(maxMemoryMb, "max-memory-mb").map { (s: String) throws(InferbenchError) in try Self.positive(s, flag: "--max-memory-mb") }
        q.maxColdStartS = try value(maxColdStart, "max-cold-start").map { (s: String) throws(InferbenchError) in
            try positiveDuration(s, flag: "--max-cold-start")
        }
        if let h = value(headroom, "headroom") {
            guard let v = Double(h), v >= 0, v <= 0.9 else {
                throw .badInput("--headroom \(h): give a share from 0 to 0.9, e.g. 0.3 (each GPU planned at 70%)")
            }
            q.headroom = v
        }
        q.budgetS = try value(budget, "budget").map { (s: String) throws(InferbenchError) in try positiveDuration(s, flag: "--budget") } ?? 1800
        q.stepS = try value(step, "step").map { (s: String) throws(InferbenchError) in try positiveDuration(s, flag: "--step") } ?? 5
        if let s = value(seed, "seed") {
            guard let v = Int(s), v >= 0 else { throw .badInput("--seed \(s): give a whole number ≥ 0") }
            q.seed = v
        }
        if q.space.compile.contains(.reduceOverhead), !gpu {
            throw .badInput("--compile reduce-overhead records CUDA graphs: it needs a GPU; drop it from --compile on this machine")
        }
        return q
    }

    /// Whether the search runs on a GPU: as `--device` says, else where NVML sees one.
    static func searchesGPU(_ device: DeviceChoice) -> Bool {
        switch device {
        case .cpu: return false
        case .cuda: return true
        case .auto:
            if case .success(let nvml) = NVML.open() { return nvml.deviceCount > 0 }
            return false
        }
    }

    /// `CommaList.parse`, each value once.
    static func kinds<T: RawRepresentable & CaseIterable>(_ text: String, flag: String) throws(InferbenchError) -> [T] where T.RawValue == String {
        let all: [T] = try CommaList.parse(text, flag: flag)
        return all.enumerated().filter { i, v in !all[..<i].contains { $0.rawValue == v.rawValue } }.map(\.element)
    }

    static func numbers(_ text: String, flag: String, range: ClosedRange<Double>, example: String, whole: Bool = true) throws(InferbenchError) -> [Double] {
        var out: [Double] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let v = Double(item), range.contains(v), !whole || v == v.rounded() else {
                throw .badInput(
                    "\(flag) \(item): give \(whole ? "whole numbers" : "numbers") from \(Format.count(range.lowerBound)) to \(Format.count(range.upperBound)), e.g. \(flag) \(example)"
                )
            }
            if !out.contains(v) { out.append(v) }
        }
        return out.sorted()
    }

    static func positive(_ text: String, flag: String) throws(InferbenchError) -> Double {
        guard let v = Double(text), v > 0, v.isFinite else { throw .badInput("\(flag) \(text): give a number above 0") }
        return v
    }
}
