import Foundation
import LaminarAutodiff
import LaminarNN
import LaminarTensor

/// What a model says about its training; ``TrainingRun`` does everything else (the loop, the
/// learning rate, budgets, divergence, stop requests, ranks, checkpoints, metrics, resume).
///
/// A step must depend only on the run's seed and the iteration number (the batch, the noise),
/// so that a resumed run follows the uninterrupted one bit for bit.
public protocol TrainingTask<Scalar>: AnyObject {
    /// The scalar of the parameters.
    associatedtype Scalar: TensorScalar
    /// One line of `metrics.jsonl`.
    associatedtype Record: TrainingRecord

    /// The trained parameters with their checkpoint names, in a fixed order.
    var namedParameters: [(String, Variable<Scalar>)] { get }

    /// What the checkpoint says about the model and its data besides the parameters: at least
    /// ``RunCheckpointKey/model`` and ``RunCheckpointKey/configuration``, and
    /// ``RunCheckpointKey/data`` with whatever else describes the data and its preprocessing.
    /// A resumed run must present the same values.
    var checkpointMetadata: [String: String] { get }

    /// Called once before the first iteration of a fresh run (data-dependent initialisation);
    /// the parameters are then copied from rank 0 to every rank.
    func prepare(options: TrainingOptions) throws

    /// Iteration `iteration`'s loss on this rank's share of the global batch and its gradients
    /// with respect to ``namedParameters`` (in that order).
    func step(_ context: StepContext<Scalar>) throws -> TaskStep<Scalar>

    /// The metrics record of a completed iteration.
    func record(_ summary: StepSummary) -> Record
}

extension TrainingTask {
    /// No data-dependent initialisation.
    public func prepare(options: TrainingOptions) throws {}

    /// The parameters without their names.
    public var parameters: [Variable<Scalar>] { namedParameters.map(\.1) }
}

/// A line of `metrics.jsonl`: any `Codable` record with the iteration it belongs to.
public protocol TrainingRecord: Codable, Sendable {
    /// The 1-based iteration.
    var iteration: Int { get }
}

extension TrainingRecord {
    /// The records of a `metrics.jsonl` file (one JSON object per line); none when it is absent.
    public static func read(from url: URL) throws -> [Self] { try MetricsLog.read(Self.self, from: url) }
}

/// What a task's ``TrainingTask/step(_:)`` is given.
public struct StepContext<Scalar: TensorScalar> {
    /// The 1-based iteration.
    public let iteration: Int
    /// The run's options (batch size, seed, NFE budget).
    public let options: TrainingOptions
    /// The ranks of the run; `DataParallel/shard(globalCount:)` gives this rank's rows.
    public let parallel: DataParallel<Scalar>

    /// Whether the step may skip its backward pass (returning zero gradients): its loss is not
    /// finite or its forward pass needed more function evaluations than the budget. The loop
    /// stops every rank after the step's all-reduce; skipping only saves the wasted work.
    public func skipsBackward(loss: Double, forwardNFE: Int) -> Bool {
        !loss.isFinite || options.maxNFE.map { forwardNFE > $0 } ?? false
    }
}

/// One rank's result of a step.
public struct TaskStep<Scalar: TensorScalar> {
    /// Gradients of this rank's shard-mean loss, one per parameter.
    public var gradients: [Tensor<Scalar>]
    /// This rank's shard of the global batch.
    public var shard: BatchShard
    /// Shard means averaged over the global batch: the loss first, then whatever the record needs.
    public var means: [Double]
    /// Function evaluations of the forward and the backward pass on this rank (0 for models
    /// without a solver).
    public var forwardNFE: Int
    /// Function evaluations of the backward pass on this rank.
    public var backwardNFE: Int

    /// A step's result; `means[0]` is the loss.
    public init(gradients: [Tensor<Scalar>], shard: BatchShard, means: [Double], forwardNFE: Int = 0, backwardNFE: Int = 0) {
        precondition(!means.isEmpty, "a step reports at least its loss")
        (self.gradients, self.shard, self.means, self.forwardNFE, self.backwardNFE) = (gradients, shard, means, forwardNFE, backwardNFE)
    }
}

/// A completed iteration as every rank sees it after the all-reduce, for the task's record.
public struct StepSummary: Sendable {
    /// The 1-based iteration.
    public var iteration: Int
    /// Global-batch means of the step's ``TaskStep/means`` (the loss first).
    public var means: [Double]
    /// The global-batch loss.
    public var loss: Double { means[0] }
    /// Function evaluations: the largest over the ranks (the step waits for the slowest).
    public var forwardNFE: Int
    /// Backward function evaluations: the largest over the ranks.
    public var backwardNFE: Int
    /// Data-parallel runs: the number of ranks and the mean NFE over them; nil in one process.
    public var ranks: Int?
    /// Mean forward NFE over the ranks (data-parallel runs).
    public var forwardNFEMean: Double?
    /// Mean backward NFE over the ranks (data-parallel runs).
    public var backwardNFEMean: Double?
    /// Seconds in the all-reduce including the wait for the slowest rank (data-parallel runs).
    public var allReduceSeconds: Double?
    /// The global gradient norm before clipping.
    public var gradientNorm: Double
    /// The learning rate of the step.
    public var learningRate: Double
    /// Wall-clock seconds of the iteration.
    public var seconds: Double
}
