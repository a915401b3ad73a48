import Foundation

/// Settings of a flow-matching run; stored in checkpoints (metadata `objective`) so that
/// `--resume` continues with the same objective.
public struct FlowMatchingConfiguration: Codable, Sendable, Equatable {
    /// The conditional probability path and its σ_min.
    public var path: ProbabilityPath
    /// How noise and data rows are paired.
    public var coupling: CouplingKind
    /// Entropic regularisation of the `sinkhorn` coupling, relative to the batch's largest
    /// squared distance.
    public var otRegularization: Double
    /// Reflow: the checkpoint of the teacher model whose (noise, sample) pairs are the data.
    public var teacher: String?

    /// The defaults: the `condot` path with σ_min = 1e-4, the independent coupling, OT
    /// regularisation 0.05 and no teacher. Checked by ``validate()``, not here.
    public init(
        path: ProbabilityPath = ProbabilityPath(), coupling: CouplingKind = .independent,
        otRegularization: Double = 0.05, teacher: String? = nil
    ) {
        self.path = path
        self.coupling = coupling
        self.otRegularization = otRegularization
        self.teacher = teacher
    }

    /// Checks the combination; messages name the flag.
    public func validate() throws {
        try path.validate()
        guard otRegularization > 0, otRegularization.isFinite else {
            throw FlowError.invalidConfiguration("--ot-reg must be > 0, got \(otRegularization)")
        }
        if coupling == .reflow && teacher == nil {
            throw FlowError.invalidConfiguration("--coupling reflow needs --teacher CHECKPOINT (the model whose samples are the data)")
        }
        if coupling != .reflow && teacher != nil {
            throw FlowError.invalidConfiguration("--teacher is only used with --coupling reflow")
        }
    }

    /// Compact JSON (sorted keys) for checkpoint metadata.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
