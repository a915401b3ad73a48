import Foundation
import LaminarData
import LaminarDistributed
import LaminarNN

/// One line of a latent run's `metrics.jsonl`.
public struct LatentRecord: Codable, Sendable {
    public var iteration: Int
    public var loss: Double
    public var log_likelihood: Double
    public var kl: Double
    public var poisson: Double
    public var nfe_forward: Int
    public var nfe_backward: Int
    public var seconds: Double
    /// Data-parallel runs: the number of ranks; `nfe_forward`/`nfe_backward` are then the
    /// largest count over the ranks and these the means.
    public var ranks: Int?
    public var nfe_forward_mean: Double?
    public var nfe_backward_mean: Double?
}

/// Iterations, batches and optimisation of a latent run.
public struct LatentTrainingOptions: Codable, Sendable, Equatable {
    public var iterations: Int
    public var batchSize: Int
    public var learningRate: Double
    public var seed: UInt64
    public var checkpointEvery: Int

    public init(iterations: Int = 2000, batchSize: Int = 100, learningRate: Double = 1e-2, seed: UInt64 = 0, checkpointEvery: Int = 100) {
        (self.iterations, self.batchSize, self.learningRate, self.seed, self.checkpointEvery) =
            (iterations, batchSize, learningRate, seed, checkpointEvery)
    }

    public func validate() throws {
        guard iterations >= 1 else { throw LatentError.invalidConfiguration("--iters must be ≥ 1, got \(iterations)") }
        guard batchSize >= 1 else { throw LatentError.invalidConfiguration("--batch must be ≥ 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw LatentError.invalidConfiguration("--lr must be a positive number, got \(learningRate)")
        }
        guard checkpointEvery >= 1 else {
            throw LatentError.invalidConfiguration("--checkpoint-every must be ≥ 1, got \(checkpointEvery)")
        }
    }
}

/// Trains a ``SeriesModel`` with Adam on random batches that depend only on
/// `(seed, iteration)`, with atomic checkpoints (parameters, optimizer state, metadata) and
/// an exact `--resume`.
///
/// Data parallel (``parallel`` over several ranks): each rank fits its ``BatchShard`` of the
/// global batch's series with the matching rows of the global batch's reparameterisation
/// noise; gradients meet in one all-reduce; rank 0 alone writes files.
public final class LatentTrainer {
    public let model: any SeriesModel<Float>
    public let options: LatentTrainingOptions
    public let data: [SeriesExample]
    public let directory: URL
    public let metadata: [String: String]
    private let optimizer: Adam<Float>
    public private(set) var iteration = 0
    /// The ranks this run is spread over (one process by default).
    public let parallel: DataParallel<Float>

    public init(
        model: any SeriesModel<Float>, options: LatentTrainingOptions, data: [SeriesExample], directory: URL,
        metadata: [String: String], parallel: DataParallel<Float> = DataParallel()
    ) throws {
        self.parallel = parallel
        try options.validate()
        guard !data.isEmpty else { throw LatentError.invalidConfiguration("the training set is empty") }
        self.model = model
        self.options = options
        self.data = data
        self.directory = directory
        self.metadata = metadata
        optimizer = Adam(parameters: model.parameters, learningRate: options.learningRate)
    }

    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }

    /// The examples of `iteration` (1-based) and the generator of its noise.
    func batch(_ iteration: Int) -> ([SeriesExample], RandomGenerator) {
        var rng = RandomGenerator(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(iteration))
        var order = Array(0..<data.count)
        order.shuffle(using: &rng)
        return (order.prefix(min(options.batchSize, data.count)).map { data[$0] }, rng)
    }

    /// Writes the checkpoint atomically (rank 0 only).
    public func saveCheckpoint() throws {
        guard parallel.isRoot else { return }
        try TrainingCheckpoint.save(
            to: checkpointURL, parameters: model.namedParameters, optimizer: optimizer, metadata: metadata, iteration: iteration)
    }

    /// Restores the checkpoint (rank 0 reads it, every rank receives its state).
    public func resume() throws {
        iteration = try parallel.communicator.decidedOnRoot {
            try TrainingCheckpoint.resume(
                from: checkpointURL, parameters: model.namedParameters, optimizer: optimizer, metadata: metadata,
                mismatch: { LatentError.resumeMismatch($0) })
        }
        try parallel.synchronize(parameters: model.namedParameters, optimizer: optimizer)
    }

    /// Trains to `options.iterations`; `shouldStop` is polled between iterations.
    public func train(shouldStop: () -> Bool = { false }, progress: (LatentRecord) -> Void = { _ in }) throws {
        var metrics: MetricsLog? = nil
        if parallel.isRoot {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            metrics = try MetricsLog(url: metricsURL, keepingFirst: iteration)
        }
        if iteration == 0 { try parallel.synchronize(parameters: model.namedParameters, optimizer: optimizer) }
        while iteration < options.iterations {
            if try parallel.agree([shouldStop()])[0] {  // every rank stops at the same iteration
                try saveCheckpoint()
                throw LatentError.interrupted(iteration: iteration)
            }
            let i = iteration + 1
            let start = Date()
            var (examples, rng) = batch(i)
            // Data parallel: this rank's series of the global batch, and (through
            // BatchShard.current) its rows of the global batch's noise.
            let shard = try parallel.shard(globalCount: examples.count)
            let batch = SeriesBatch<Float>(Array(examples[shard.rows]))
            let (terms, localGradients) = try BatchShard.$current.withValue(shard) {
                try withGradient { () throws -> (SeriesLoss<Float>, [Tensor<Float>]) in
                    let terms = try model.loss(batch, using: &rng)
                    return (terms, gradients(of: terms.loss, wrt: model.parameters).map(\.value))
                }
            }
            var grads = localGradients
            let totals = try parallel.reduce(
                &grads, shard: shard, means: [Double(terms.loss.value.scalar), terms.logLikelihood, terms.kl, terms.poisson],
                perRank: [Double(terms.nfe), Double(terms.backwardNFE)])
            let loss = totals.means[0]
            guard loss.isFinite, grads.allSatisfy({ $0.isFinite }) else { throw LatentError.diverged(iteration: i) }
            optimizer.step(gradients: grads)
            iteration = i
            let (forward, backward) = (totals.perRank[0], totals.perRank[1])
            var record = LatentRecord(
                iteration: i, loss: loss, log_likelihood: totals.means[1], kl: totals.means[2], poisson: totals.means[3],
                nfe_forward: Int(forward.max()!), nfe_backward: Int(backward.max()!), seconds: Date().timeIntervalSince(start))
            if parallel.isDistributed {
                record.ranks = parallel.communicator.size
                record.nfe_forward_mean = forward.reduce(0, +) / Double(forward.count)
                record.nfe_backward_mean = backward.reduce(0, +) / Double(backward.count)
            }
            try metrics?.append(record)
            progress(record)
            try parallel.checkReplicas(model.parameters, iteration: i)
            if iteration % options.checkpointEvery == 0 || iteration == options.iterations { try saveCheckpoint() }
        }
    }
}

/// Root-mean-square errors of a model's predictions.
public struct SeriesScores: Codable, Sendable, Equatable {
    /// At the interpolation targets (inside the observed window).
    public var interpolationRMSE: Double
    /// At the extrapolation targets (after it).
    public var extrapolationRMSE: Double
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
