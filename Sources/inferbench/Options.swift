import ArgumentParser
import Foundation
import InferbenchCore

// The option vocabulary of `run` and `load`: each flag declared once, with one type, one help
// text and one validation, so that the two commands cannot drift apart.

extension CompileMode: ExpressibleByArgument {}
extension GraphShapes: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension ArrivalProcess: ExpressibleByArgument {}
extension CompareMetric: ExpressibleByArgument {}
extension ReportLanguage: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension PayloadMode: ExpressibleByArgument {}

extension DeviceChoice: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

/// A comma-separated list of enum values (`--compile eager,default`), parsed with an error
/// that names the valid values and the nearest one.
enum CommaList {
    static func parse<T: RawRepresentable & CaseIterable>(_ text: String, flag: String) throws(InferbenchError) -> [T] where T.RawValue == String {
        var values: [T] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let value = T(rawValue: item) else {
                let valid = T.allCases.map(\.rawValue)
                let near = suggestions(for: item, among: valid)
                throw .badInput("\(flag) \(item): not one of \(valid.joined(separator: ", "))" + (near.isEmpty ? "" : ". Did you mean \(near[0])?"))
            }
            values.append(value)
        }
        if values.isEmpty { throw .badInput("\(flag): give at least one of \(T.allCases.map(\.rawValue).joined(separator: ", "))") }
        return values
    }

    /// A transform for `@Option(transform:)`: swift-argument-parser shows the thrown message.
    static func transform<T: RawRepresentable & CaseIterable & SendableMetatype>(_ flag: String) -> @Sendable (String) throws -> [T]
    where T.RawValue == String {
        { text in
            do throws(InferbenchError) { return try parse(text, flag: flag) } catch { throw ValidationError(error.description) }
        }
    }
}

/// What to measure: the model(s) and the variant axes. `run` takes lists; `load` one of each.
struct VariantOptions: ParsableArguments {
    @Option(
        name: .long, parsing: .singleValue,
        help:
            "Model (zoo name with parameters, e.g. bert-base:seq=512; file.py:build_fn; or a .pt2 ExportedProgram / AOTInductor package, e.g. model.pt2:shape=1x3x224x224); run: repeat or comma-separate; load: one."
    )
    var model: [String] = []

    @Option(
        name: .long, help: "Compile modes (load: one): \(CompileMode.allCases.map(\.rawValue).joined(separator: ",")) (default: eager).",
        transform: CommaList.transform("--compile"))
    var compile: [CompileMode]?

    @Option(
        name: .long, help: "Precisions (load: one): \(Precision.allCases.map(\.rawValue).joined(separator: ",")) (default: fp32).",
        transform: CommaList.transform("--precision"))
    var precision: [Precision]?

    @Option(name: .long, help: "auto, cpu, cuda or cuda:N (default: auto).")
    var device: DeviceChoice?

    @Flag(name: .long, help: "Convert model and 4-D inputs to channels_last.")
    var channelsLast = false

    @Option(name: .long, help: "Seed for weights, inputs (and arrivals in load) (default: 0).")
    var seed: Int?

    /// The models named, parsed; an empty name (`--model ""`, `--model ,`) is bad input, not
    /// "no model" (which would run the whole default plan).
    func models() throws(InferbenchError) -> [ModelSpec] {
        var specs: [ModelSpec] = []
        for text in model {
            let items = text.contains(".py:") ? [text] : ModelSpec.splitList(text)
            if items.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw .badInput("--model \"\(text)\": empty model name; give a name from `inferbench models`, e.g. --model resnet50")
            }
            for item in items { specs.append(try ModelSpec(parsing: item)) }
        }
        return specs
    }

    func validate() throws {
        do { _ = try models() } catch { throw ValidationError(error.description) }
    }
}

/// Where results go and what is shown while they are measured.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output folder (default: results/<time>-<id>, with -load for load tests).")
    var out: String?

    @Flag(name: .long, help: "Do not sample GPU and host telemetry.")
    var noTelemetry = false

    @Option(name: .long, help: "Telemetry sampling interval in milliseconds.")
    var telemetryInterval: Int = 100

    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false

    @Flag(
        name: .shortAndLong,
        help: "Also print each cell's detail at the end: cold start, accuracy, GPU telemetry (the reports hold it either way).")
    var verbose = false

    @Flag(name: .long, help: "Print every table column, however wide; without it the tables fit $COLUMNS (100 when unset).")
    var wide = false

    /// How the closing summary is laid out on this terminal.
    var layout: TerminalLayout { TerminalLayout(width: Console.width, wide: wide, verbose: verbose) }

    func validate() throws {
        if telemetryInterval < 10 || telemetryInterval > 60_000 {
            throw ValidationError("--telemetry-interval \(telemetryInterval): give 10 to 60000 ms")
        }
        if let out, out.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--out: give a folder path") }
    }

    /// The output folder, created and checked writable.
    func folder(default name: String) throws(InferbenchError) -> OutputFolder {
        try OutputFolder(path: out ?? "results/\(name)")
    }

    /// The sampler, or nil with --no-telemetry. Says why GPU telemetry is off only when
    /// `onGPU` (a run says it itself once its workers know the device): a CPU run or a typo
    /// in a model name is no reason to talk about NVML.
    func sampler(onGPU: Bool) -> TelemetrySampler? {
        guard !noTelemetry else { return nil }
        let sampler = TelemetrySampler(interval: .milliseconds(telemetryInterval))
        if let reason = sampler.unavailableReason, !quiet, onGPU { Console.note("GPU telemetry off: \(reason)") }
        return sampler
    }
}

/// `--store PATH` for the commands that read the results store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Results store, a SQLite file (default: $INFERBENCH_STORE, else ~/.inferbench/results.sqlite).")
    var store: String?

    var path: String { ResultsStore.defaultPath(flag: store) }
}

/// `--store PATH` and `--no-store` for the commands that record runs.
struct RecordingOptions: ParsableArguments {
    @OptionGroup var storeOptions: StoreOptions

    @Flag(name: .long, help: "Do not record this run in the results store.")
    var noStore = false

    func validate() throws {
        if noStore, storeOptions.store != nil { throw ValidationError("--no-store and --store: give one or the other") }
    }

    var recorder: StoreRecorder { StoreRecorder(path: noStore ? nil : storeOptions.path, diagnose: { Console.error($0) }) }
}
