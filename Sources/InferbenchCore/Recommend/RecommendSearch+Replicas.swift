import Foundation

/// New replicas of the answer once the search has one: what an autoscaler's next replica waits
/// before it serves. Each is a plain `inferbench run` of the answer at its max batch in a new
/// process (no output check, no throughput): with the compile cache as the search left it, and
/// for a compiled answer also with an empty cache (a fresh machine) and from an AOTInductor
/// package of its graph (no compile at start). Each is skipped past the budget, and a resumed
/// search starts only those it lacks.
extension RecommendSearch {
    func replicaStarts(_ record: inout RecommendRecord, _ config: ServingConfig, _ clock: SpentClock) async throws(InferbenchError) {
        if record.replica?.config != config, let start = await replicaStart(record, config, .searchCache, clock) {
            record.replica = start
            try save(&record, clock)
        }
        guard config.variant.compile != .eager else { return }
        if stopped == nil, record.emptyCacheReplica?.config != config, let start = await replicaStart(record, config, .emptyCache, clock) {
            record.emptyCacheReplica = start
            try save(&record, clock)
        }
        if stopped == nil, record.packageReplica?.config != config, let start = await replicaStart(record, config, .aotiPackage, clock) {
            record.packageReplica = start
            try save(&record, clock)
        }
    }

    /// One replica start from `source`; nil when skipped for the budget or stopped.
    func replicaStart(_ record: RecommendRecord, _ config: ServingConfig, _ source: ReplicaStart.Source, _ clock: SpentClock) async -> ReplicaStart? {
        let q = record.question
        // The screen's cold start of the variant predicts one start; a package is built first.
        let cold = record.screen?.variants.first { $0.variant == config.variant }?.coldStartS ?? 10
        guard clock.spent + cold * (source == .aotiPackage ? 2 : 1) + 10 <= q.budgetS else {
            settings.progress("replica start (\(source.rawValue)): skipped, it would pass the --budget")
            return nil
        }
        let started = Date()
        let folder = "replica" + (source == .searchCache ? "" : "-\(source.rawValue)")
        let cache = settings.folder.appending(path: folder + ".cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let inputs: StageInputs
        switch await stageInputs(record, config, source, cache: cache) {
        case .failure(let problem):
            return ReplicaStart(config: config, source: source, folder: "package-build", wallS: Date().timeIntervalSince(started), problem: problem.message)
        case .success(let made): inputs = made
        }
        guard stopped == nil else { return nil }
        let args =
            ["run"] + inputs.model + [
                "--batch", String(config.maxBatch), "--processes", "1", "--max-time", "1", "--no-verify", "--no-throughput", "--out", path(folder),
            ] + settings.passThrough
        settings.progress("replica start (\(source.rawValue)): \(config) (log: \(path(folder + ".log")))")
        let (code, problem) = await stage.run(
            executable: settings.executable, arguments: args, environment: inputs.environment, log: settings.folder.appending(path: folder + ".log"))
        guard stopped == nil else { return nil }
        var start = ReplicaStart(config: config, source: source, folder: folder, wallS: Date().timeIntervalSince(started))
        switch firstCell(folder, code: code, problem: problem) {
        case .success(let cell): (start.coldStartS, start.compileCache) = (cell.coldStart?.toReadyS, cell.coldStart?.compileCache)
        case .failure(let problem): start.problem = problem.message
        }
        return start
    }

    /// The model and variant flags of a replica from `source`, and the environment it runs in.
    typealias StageInputs = (model: [String], environment: [String: String])

    func stageInputs(_ record: RecommendRecord, _ config: ServingConfig, _ source: ReplicaStart.Source, cache: URL) async -> Result<StageInputs, StageProblem> {
        let q = record.question
        let variant = ["--compile", config.variant.compile.rawValue, "--precision", config.variant.precision.rawValue]
        switch source {
        case .searchCache: return .success((q.modelArguments + variant, [:]))
        case .emptyCache:
            // Inductor keeps its FX graph and AOTAutograd caches under its cache folder, Triton
            // its kernels under its own: both new and empty, then removed (they can be large).
            try? FileManager.default.removeItem(at: cache)
            let environment = ["TORCHINDUCTOR_CACHE_DIR": cache.appending(path: "inductor").path, "TRITON_CACHE_DIR": cache.appending(path: "triton").path]
            return .success((q.modelArguments + variant, environment))
        case .aotiPackage:
            // A package runs as packaged: its own graph and dtypes, no variant flags.
            return await buildPackage(record, config).map { package in
                (["--model", "\(package):inputs=\(package).inputs.pt", "--device", q.device.description, "--seed", String(q.seed)], [:])
            }
        }
    }

    /// `inferbench run --compile aot-inductor --keep-packages` of the answer: the package's path.
    func buildPackage(_ record: RecommendRecord, _ config: ServingConfig) async -> Result<String, StageProblem> {
        let q = record.question
        let dir = settings.folder.appending(path: "package")
        try? FileManager.default.removeItem(at: dir)
        let args =
            ["run"] + q.modelArguments + [
                "--compile", CompileMode.aotInductor.rawValue, "--precision", config.variant.precision.rawValue, "--batch", String(config.maxBatch),
                "--processes", "1", "--max-time", "1", "--no-verify", "--no-throughput", "--keep-packages", dir.path, "--out", path("package-build"),
            ] + settings.passThrough
        settings.progress("AOTInductor package: \(config.variant.precision.rawValue) at batch \(config.maxBatch) (log: \(path("package-build.log")))")
        let (code, problem) = await stage.run(executable: settings.executable, arguments: args, log: settings.folder.appending(path: "package-build.log"))
        return firstCell("package-build", code: code, problem: problem).flatMap { _ in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            guard let name = files.first(where: { $0.hasSuffix(".pt2") }) else { return .failure(StageProblem("the build kept no package in \(dir.path)")) }
            return .success(dir.appending(path: name).path)
        }
    }

    /// The one cell a replica stage ran, or why there is none.
    func firstCell(_ folder: String, code: Int32?, problem: String?) -> Result<CellResult, StageProblem> {
        guard let (results, _) = try? RunResults.load(path: path(folder)), let cell = results.cells.first else {
            return .failure(StageProblem(problem ?? "inferbench run exited \(code.map(String.init) ?? "?") without a result; see \(path(folder + ".log"))"))
        }
        guard cell.status == .ok else {
            return .failure(StageProblem(cell.error.map { "\($0.kind.rawValue): \($0.message)" } ?? "the cell \(cell.status.rawValue)"))
        }
        return .success(cell)
    }
}

/// Why a stage gave no figure, in one line.
struct StageProblem: Error {
    var message: String
    /// The first line, cut to a length a report line can hold (the log has the rest).
    init(_ message: String) {
        let line = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? message
        self.message = line.count > 200 ? String(line.prefix(199)) + "…" : line
    }
}
