import LaminarAutodiff

/// What a training step minimises: the one seam between ``FlowTrainer`` and the ways a flow can
/// be fitted. Maximum likelihood (``MaximumLikelihood``, the default) integrates the flow;
/// flow matching (``FlowMatching``) regresses a CNF's vector field without any solve.
public protocol TrainingObjective<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// Name recorded in checkpoints and metrics (`likelihood`, `flow-matching`).
    var name: String { get }
    /// The loss of `flow` on the data batch `x` ([n, d], rows in the model's data space), with
    /// a graph to the flow's parameters. `rng` is the iteration's generator (noise, times,
    /// couplings), so a resumed run repeats the uninterrupted run. When the objective is not a
    /// likelihood, the returned `nll` is NaN.
    func loss(of flow: any Flow<Scalar>, batch x: Variable<Scalar>, using rng: inout RandomGenerator) throws
        -> TrainingLoss<Scalar>
}

/// Maximum likelihood: the flow's own ``Flow/trainingLoss(_:using:)`` (mean negative
/// log-likelihood with its trace estimator, plus the RNODE terms it is configured with).
public final class MaximumLikelihood<Scalar: TensorScalar>: TrainingObjective {
    /// The objective; it holds no state (the flow carries its trace estimator and RNODE weights).
    public init() {}

    /// `likelihood`, the objective's name in checkpoints and metrics.
    public var name: String { "likelihood" }

    /// The flow's own ``Flow/trainingLoss(_:using:)`` on `x`, unchanged.
    public func loss(of flow: any Flow<Scalar>, batch x: Variable<Scalar>, using rng: inout RandomGenerator) throws
        -> TrainingLoss<Scalar> {
        try flow.trainingLoss(x, using: &rng)
    }
}
