import Foundation
import LaminarData
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
public final class LatentTrainer {
    public let model: any SeriesModel<Float>
    public let options: LatentTrainingOptions
    public let data: [SeriesExample]
    public let directory: URL
    public let metadata: [String: String]
    private let optimizer: Adam<Float>
    public private(set) var iteration = 0

    public init(
        model: any SeriesModel<Float>, options: LatentTrainingOptions, data: [SeriesExample], directory: URL,
        metadata: [String: String]
    ) throws {
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

    public func saveCheckpoint() throws {
        try TrainingCheckpoint.save(
            to: checkpointURL, parameters: model.namedParameters, optimizer: optimizer, metadata: metadata, iteration: iteration)
    }

    public func resume() throws {
        iteration = try TrainingCheckpoint.resume(
            from: checkpointURL, parameters: model.namedParameters, optimizer: optimizer, metadata: metadata,
            mismatch: { LatentError.resumeMismatch($0) })
    }

    /// Trains to `options.iterations`; `shouldStop` is polled between iterations.
    public func train(shouldStop: () -> Bool = { false }, progress: (LatentRecord) -> Void = { _ in }) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let metrics = try MetricsLog(url: metricsURL, keepingFirst: iteration)
        while iteration < options.iterations {
            if shouldStop() {
                try saveCheckpoint()
                throw LatentError.interrupted(iteration: iteration)
            }
            let i = iteration + 1
            let start = Date()
            var (examples, rng) = batch(i)
            let batch = SeriesBatch<Float>(examples)
            let (terms, grads) = try withGradient { () throws -> (SeriesLoss<Float>, [Tensor<Float>]) in
                let terms = try model.loss(batch, using: &rng)
                return (terms, gradients(of: terms.loss, wrt: model.parameters).map(\.value))
            }
            let loss = Double(terms.loss.value.scalar)
            guard loss.isFinite, grads.allSatisfy({ $0.isFinite }) else { throw LatentError.diverged(iteration: i) }
            optimizer.step(gradients: grads)
            iteration = i
            let record = LatentRecord(
                iteration: i, loss: loss, log_likelihood: terms.logLikelihood, kl: terms.kl, poisson: terms.poisson,
                nfe_forward: terms.nfe, nfe_backward: terms.backwardNFE, seconds: Date().timeIntervalSince(start))
            try metrics.append(record)
            progress(record)
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
