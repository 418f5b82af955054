import Foundation

/// One stored run as `history` lists it: enough to pick a run without reading its results.
public struct RunSummary: Sendable, Equatable {
    public struct Environment: Sendable, Equatable {
        public var name: String
        public var torch: String?
        public var gpu: String?
    }

    public var id: String
    /// "run" or "load".
    public var kind: RunResults.Kind
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: RunInfo.Status
    public var command: String
    public var hostname: String
    public var environments: [Environment]
    /// Models in the order their first cell was stored; a load test's model.
    public var models: [String]
    public var cellsOK: Int
    public var cellsTotal: Int
    /// The lowest p50 (ms) of each model's successful cells; a model with none is absent.
    public var bestP50: [String: Double]
    public var resultsPath: String?
    /// A load test's finished steps, and the windows recorded over all its steps.
    public var loadSteps = 0
    public var loadWindows = 0
}
