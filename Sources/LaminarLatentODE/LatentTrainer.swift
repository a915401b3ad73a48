import Foundation
import LaminarData
import LaminarDistributed
import LaminarNN
@_exported import LaminarTraining

/// One line of a latent run's `metrics.jsonl`.
public struct LatentRecord: TrainingRecord {
    /// The 1-based iteration.
    public var iteration: Int
    /// The negative ELBO per series of the global batch.
    public var loss: Double
    /// Mean log-likelihood of the observations.
    public var log_likelihood: Double
    /// Mean KL divergence of the posterior from the prior.
    public var kl: Double
    /// Mean Poisson-process log-likelihood of the observation times (0 without `--poisson`).
    public var poisson: Double
    /// Forward function evaluations of the step.
    public var nfe_forward: Int
    /// Backward function evaluations of the step.
    public var nfe_backward: Int
    /// Wall-clock seconds of the iteration.
    public var seconds: Double
    /// Data-parallel runs: the number of ranks; `nfe_forward`/`nfe_backward` are then the
    /// largest count over the ranks and these the means.
    public var ranks: Int?
    /// Mean forward NFE over the ranks (data-parallel runs).
    public var nfe_forward_mean: Double?
    /// Mean backward NFE over the ranks (data-parallel runs).
    public var nfe_backward_mean: Double?
}

/// Training settings of a latent run: its length in iterations and the loop's settings
/// (``LoopSettings``: batch of series, learning rate, warm-up, clipping, NFE and time budgets,
/// divergence policy), which read as members (`options.batchSize`). No weight decay. Coded as
/// one flat JSON object.
public struct LatentTrainingOptions: ModelTrainingOptions, Equatable {
    /// Total iterations (counting those before a resume).
    public var iterations: Int
    /// Batch, learning rate, seed, checkpoint cadence, budgets and safeguards.
    public var loop: LoopSettings

    /// The paper's defaults (2000 iterations, 100 series per batch, learning rate 1e-2) for
    /// everything not given.
    public init(iterations: Int = 2000, loop: LoopSettings = LoopSettings(batchSize: 100, learningRate: 1e-2)) {
        (self.iterations, self.loop) = (iterations, loop)
    }

    /// The JSON key of the run's length.
    public static let lengthKey = "iterations"

    /// The run's length: ``iterations``.
    public var runLength: Int { iterations }

    /// Options of `runLength` iterations with `loop`.
    public init(runLength: Int, loop: LoopSettings) { self.init(iterations: runLength, loop: loop) }

    /// The loop's options.
    public var trainingOptions: TrainingOptions { loop.trainingOptions(iterations: iterations) }

    /// Validates the ranges; the message names the flag.
    public func validate() throws { try trainingOptions.validate() }
}

/// Trains a ``SeriesModel`` with Adam: the model's step (random batches that depend only on
/// `(seed, iteration)`, the ELBO) run by the shared `TrainingRun` loop, which owns
/// checkpoints, metrics, budgets, signals, ranks and exact resume.
///
/// Data parallel (``parallel`` over several ranks): each rank fits its `BatchShard` of the
/// global batch's series with the matching rows of the global batch's reparameterisation noise.
public final class LatentTrainer: ModelTrainer {
    /// The model being trained.
    public let model: any SeriesModel<Float>
    /// Training settings.
    public let options: LatentTrainingOptions
    /// The training series.
    public let data: [SeriesExample]
    /// Metadata stored in every checkpoint (model, configuration, data).
    public let metadata: [String: String]
    /// The loop that runs the model's steps.
    public let run: TrainingRun<LatentTrainingTask>

    /// A trainer writing to `directory`; nothing is read or written yet.
    public init(
        model: any SeriesModel<Float>, options: LatentTrainingOptions, data: [SeriesExample], directory: URL,
        metadata: [String: String], parallel: DataParallel<Float> = DataParallel()
    ) throws {
        try options.validate()
        guard !data.isEmpty else { throw LatentError.invalidConfiguration("the training set is empty") }
        (self.model, self.options, self.data, self.metadata) = (model, options, data, metadata)
        run = try TrainingRun(
            task: LatentTrainingTask(model: model, data: data, metadata: metadata), options: options.trainingOptions,
            directory: directory, parallel: parallel)
    }
}

/// A latent model's training step for `TrainingRun`: the series and noise of
/// `(seed, iteration)`, the ELBO terms of this rank's share, NFE.
public final class LatentTrainingTask: TrainingTask {
    /// The model being trained.
    public let model: any SeriesModel<Float>
    /// The training series.
    public let data: [SeriesExample]
    /// Model, configuration and data, for the checkpoint.
    public let checkpointMetadata: [String: String]

    /// The task of training `model` on `data`.
    public init(model: any SeriesModel<Float>, data: [SeriesExample], metadata: [String: String]) {
        (self.model, self.data, self.checkpointMetadata) = (model, data, metadata)
    }

    /// The model's parameters.
    public var namedParameters: [(String, Variable<Float>)] { model.namedParameters }

    /// The examples of `iteration` (1-based) and the generator of its noise.
    func batch(_ iteration: Int, options: TrainingOptions) -> ([SeriesExample], RandomGenerator) {
        var rng = RandomGenerator(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(iteration))
        var order = Array(0..<data.count)
        order.shuffle(using: &rng)
        return (order.prefix(min(options.batchSize, data.count)).map { data[$0] }, rng)
    }

    /// The ELBO of this rank's series of the iteration's batch.
    public func step(_ context: StepContext<Float>) throws -> TaskStep<Float> {
        var (examples, rng) = batch(context.iteration, options: context.options)
        // Data parallel: this rank's series of the global batch, and (through
        // BatchShard.current) its rows of the global batch's noise.
        let shard = try context.parallel.shard(globalCount: examples.count)
        let batch = SeriesBatch<Float>(Array(examples[shard.rows]))
        let (terms, grads) = try BatchShard.$current.withValue(shard) {
            try withGradient { () throws -> (SeriesLoss<Float>, [Tensor<Float>]) in
                let terms = try model.loss(batch, using: &rng)
                return (terms, gradients(of: terms.loss, wrt: model.parameters).map(\.value))
            }
        }
        return TaskStep(
            gradients: grads, shard: shard, means: [Double(terms.loss.value.scalar), terms.logLikelihood, terms.kl, terms.poisson],
            forwardNFE: terms.nfe, backwardNFE: terms.backwardNFE)
    }

    /// The record of a completed iteration.
    public func record(_ s: StepSummary) -> LatentRecord {
        var record = LatentRecord(
            iteration: s.iteration, loss: s.loss, log_likelihood: s.means[1], kl: s.means[2], poisson: s.means[3],
            nfe_forward: s.forwardNFE, nfe_backward: s.backwardNFE, seconds: s.seconds)
        (record.ranks, record.nfe_forward_mean, record.nfe_backward_mean) = (s.ranks, s.forwardNFEMean, s.backwardNFEMean)
        return record
    }
}

/// Root-mean-square errors of a model's predictions.
public struct SeriesScores: Codable, Sendable, Equatable {
    /// At the interpolation targets (inside the observed window).
    public var interpolationRMSE: Double
    /// At the extrapolation targets (after it).
    public var extrapolationRMSE: Double
    /// Number of series (examples) scored.
    public var series: Int
}

/// Interpolation and extrapolation RMSE over `examples`, predicted in batches.
public func evaluateSeries(_ model: any SeriesModel<Float>, on examples: [SeriesExample], batchSize: Int = 100) throws -> SeriesScores {
    var sums = (interpolation: 0.0, extrapolation: 0.0)
    var counts = (interpolation: 0, extrapolation: 0)
    var begin = 0
    while begin < examples.count {
        let part = Array(examples[begin..<min(examples.count, begin + max(1, batchSize))])
        let queries = part.map { $0.interpolation.times + $0.extrapolation.times }
        let predictions = try model.predict(part, at: queries)
        for (example, prediction) in zip(part, predictions) {
            let n = example.interpolation.times.count
            for (q, target) in [example.interpolation, example.extrapolation].enumerated() {
                for j in 0..<target.times.count {
                    for f in 0..<target.featureCount where target.mask[j][f] {
                        let e = prediction[q == 0 ? j : n + j][f] - target.values[j][f]
                        if q == 0 { sums.interpolation += e * e; counts.interpolation += 1 }
                        else { sums.extrapolation += e * e; counts.extrapolation += 1 }
                    }
                }
            }
        }
        begin += part.count
    }
    return SeriesScores(
        interpolationRMSE: counts.interpolation == 0 ? .nan : (sums.interpolation / Double(counts.interpolation)).squareRoot(),
        extrapolationRMSE: counts.extrapolation == 0 ? .nan : (sums.extrapolation / Double(counts.extrapolation)).squareRoot(),
        series: examples.count)
}
