import Foundation
import LaminarDistributed
import LaminarNN
@_exported import LaminarTraining

/// Training of any ``Flow`` on a ``TrainingObjective`` (maximum likelihood by default): the
/// flow's step (batches of `(seed, iteration)`, the objective, its record fields) run by the
/// shared `TrainingRun` loop, which owns checkpoints, metrics, budgets, divergence, signals,
/// ranks and exact resume.
///
/// Data parallel (``parallel`` over several ranks): every rank draws iteration `i`'s global
/// batch and noise and computes its `BatchShard` of it.
public final class FlowTrainer<F: Flow>: ModelTrainer {
    /// The model being trained.
    public let flow: F
    /// Optimisation settings.
    public var options: TrainingOptions { run.options }
    /// Where the batches come from.
    public let source: BatchSource<F.Scalar>
    /// Extra metadata stored in every checkpoint (model configuration JSON, data name …).
    public let metadata: [String: String]
    /// What each step minimises: ``MaximumLikelihood`` or ``FlowMatching``.
    public let objective: any TrainingObjective<F.Scalar>
    /// The loop that runs the flow's steps.
    public let run: TrainingRun<FlowTrainingTask<F>>

    /// A trainer of `flow` on `source` writing to `directory`; nothing is read or written yet.
    /// - Throws: `TrainingError/invalidOptions(_:)` naming the flag of an option out of range.
    public init(
        flow: F, options: TrainingOptions, source: BatchSource<F.Scalar>, directory: URL,
        metadata: [String: String], objective: (any TrainingObjective<F.Scalar>)? = nil,
        parallel: DataParallel<F.Scalar> = DataParallel()
    ) throws {
        let objective = objective ?? MaximumLikelihood<F.Scalar>()
        (self.flow, self.source, self.metadata, self.objective) = (flow, source, metadata, objective)
        run = try TrainingRun(
            task: FlowTrainingTask(flow: flow, source: source, objective: objective, metadata: metadata),
            options: options, directory: directory, parallel: parallel)
    }

    /// The learning rate at `iteration` (1-based): warm-up, then constant.
    func learningRate(at iteration: Int) -> Double { run.learningRate(at: iteration) }
}
