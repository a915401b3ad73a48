import LaminarTraining

/// One line of `metrics.jsonl`.
public struct IterationRecord: TrainingRecord {
    /// The 1-based iteration.
    public var iteration: Int
    /// The global batch's loss (the objective minimised).
    public var loss: Double
    /// Mean negative log-likelihood of the batch (nats); absent when the objective is not a
    /// likelihood (flow matching).
    public var nll: Double?
    /// Forward function evaluations of the step.
    public var nfe_forward: Int
    /// Backward (adjoint) function evaluations of the step.
    public var nfe_backward: Int
    /// Wall-clock seconds of this iteration.
    public var seconds: Double
    /// Global gradient norm before clipping.
    public var grad_norm: Double
    /// Learning rate of the step.
    public var lr: Double
    /// FFJORD's learned integration time `T` after the step, when it has one.
    public var end_time: Double?
    /// RNODE kinetic-energy regularizer of the batch, when enabled.
    public var kinetic: Double?
    /// RNODE Jacobian-Frobenius regularizer of the batch, when enabled.
    public var jacobian: Double?
    /// Images: the batch's bits per dimension (training estimator, dequantized pixels).
    public var bits_per_dim: Double?
    /// Data-parallel runs: the number of ranks; `nfe_forward`/`nfe_backward` are then the
    /// largest count over the ranks (the step waits for the slowest) and these the means.
    public var ranks: Int?
    /// Mean forward NFE over the ranks (data-parallel runs).
    public var nfe_forward_mean: Double?
    /// Mean backward NFE over the ranks (data-parallel runs).
    public var nfe_backward_mean: Double?
    /// Data-parallel runs: seconds of this iteration spent in the gradient all-reduce on rank 0,
    /// including the wait for the slowest rank.
    public var allreduce_seconds: Double?
}
