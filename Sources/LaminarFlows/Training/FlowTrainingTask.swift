import Foundation
import LaminarAutodiff
import LaminarNN
import LaminarTraining

/// A flow's training step for `TrainingRun`: the batch of `(seed, iteration)`, the objective's
/// loss on this rank's rows with its estimator noise, the gradients, and the record fields
/// (NLL, regularizers, end time, bits/dim on images).
public final class FlowTrainingTask<F: Flow>: TrainingTask {
    /// The flow's scalar.
    public typealias Scalar = F.Scalar

    /// The model being trained.
    public let flow: F
    /// Where the batches come from.
    public let source: BatchSource<F.Scalar>
    /// What each step minimises.
    public let objective: any TrainingObjective<F.Scalar>
    /// Model, configuration, data and objective, for the checkpoint.
    public let checkpointMetadata: [String: String]
    /// The last step's regularizer names (their means follow the loss and the NLL) and the mean
    /// log-determinant of its preprocessing.
    private var regularizerNames: [String] = []
    private var preprocessingLogDeterminant = 0.0

    init(flow: F, source: BatchSource<F.Scalar>, objective: any TrainingObjective<F.Scalar>, metadata: [String: String]) {
        (self.flow, self.source, self.objective, self.checkpointMetadata) = (flow, source, objective, metadata)
    }

    /// The flow's parameters.
    public var namedParameters: [(String, Variable<F.Scalar>)] { flow.namedParameters }

    /// Data-dependent initialisation on the first batch.
    public func prepare(options: TrainingOptions) throws {
        try flow.prepare(source.batch(iteration: 1, size: options.batchSize, seed: options.seed))
    }

    /// The objective on this rank's rows of the iteration's batch.
    public func step(_ context: StepContext<F.Scalar>) throws -> TaskStep<F.Scalar> {
        let i = context.iteration, options = context.options
        let (batch, logDeterminant) = source.batchWithLogDeterminant(iteration: i, size: options.batchSize, seed: options.seed)
        preprocessingLogDeterminant = logDeterminant
        // Data parallel: this rank's rows of the global batch (all of them in one process).
        let shard = try context.parallel.shard(globalCount: batch.shape[0])
        let x = Variable(shard.rows(of: batch))
        var rng = RandomGenerator(seed: mix(options.seed, UInt64(i), 0x4E))
        let loss: TrainingLoss<F.Scalar>
        do {
            loss = try BatchShard.$current.withValue(shard) {
                try withGradient { try self.objective.loss(of: flow, batch: x, using: &rng) }
            }
        } catch {
            throw TrainingError.solverFailed(iteration: i, message: "\(error)")
        }
        let value = Double(loss.loss.value.scalar)
        // Over the NFE budget or not finite: the loop stops every rank after the reduction.
        let grads = context.skipsBackward(loss: value, forwardNFE: loss.nfeForward)
            ? flow.parameters.map { Tensor(zeros: $0.shape) }
            : gradients(of: loss.loss, wrt: flow.parameters).map(\.value)
        regularizerNames = loss.regularizers.keys.sorted()
        return TaskStep(
            gradients: grads, shard: shard, means: [value, loss.nll] + regularizerNames.map { loss.regularizers[$0]! },
            forwardNFE: loss.nfeForward, backwardNFE: loss.nfeBackward)
    }

    /// The record of a completed iteration.
    public func record(_ s: StepSummary) -> IterationRecord {
        let nll = s.means[1]
        let regularizers = Dictionary(uniqueKeysWithValues: zip(regularizerNames, s.means.dropFirst(2)))
        var record = IterationRecord(
            iteration: s.iteration, loss: s.loss, nll: nll.isNaN ? nil : nll, nfe_forward: s.forwardNFE,
            nfe_backward: s.backwardNFE, seconds: s.seconds, grad_norm: s.gradientNorm, lr: s.learningRate)
        record.end_time = flow.endTime
        record.kinetic = regularizers["kinetic"]
        record.jacobian = regularizers["jacobian"]
        (record.ranks, record.nfe_forward_mean, record.nfe_backward_mean) = (s.ranks, s.forwardNFEMean, s.backwardNFEMean)
        record.allreduce_seconds = s.allReduceSeconds
        if case .images = source, !nll.isNaN {
            record.bits_per_dim = ImagePreprocessing.bitsPerDimension(
                logProbability: -nll, logDeterminant: preprocessingLogDeterminant, dimension: source.dimension)
        }
        return record
    }
}
