import Foundation
import LaminarAutodiff
import LaminarData
import LaminarDistributed
import LaminarNN
import LaminarODE

/// One line of a classifier run's `metrics.jsonl`.
public struct ClassifierRecord: Codable, Sendable {
    public var iteration: Int
    public var epoch: Double
    public var loss: Double
    public var accuracy: Double
    public var nfe_forward: Int
    public var nfe_backward: Int
    public var seconds: Double
    public var images_per_second: Double
    /// Data-parallel runs: the number of ranks; `nfe_forward`/`nfe_backward` are then the
    /// largest count over the ranks and these the means.
    public var ranks: Int?
    public var nfe_forward_mean: Double?
    public var nfe_backward_mean: Double?
}

/// Training settings of `laminar classify train`.
extension ClassifierRecord {
    /// The records of a `metrics.jsonl` file (one JSON object per line).
    public static func read(from url: URL) throws -> [ClassifierRecord] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        let decoder = JSONDecoder()
        return try data.split(separator: 0x0A).filter { !$0.isEmpty }.map { try decoder.decode(ClassifierRecord.self, from: Data($0)) }
    }
}

public struct ClassifierTrainingOptions: Codable, Sendable, Equatable {
    public var epochs: Double
    public var batchSize: Int
    public var learningRate: Double
    public var seed: UInt64
    public var checkpointEvery: Int

    public init(epochs: Double = 1, batchSize: Int = 128, learningRate: Double = 1e-3, seed: UInt64 = 0, checkpointEvery: Int = 100) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.checkpointEvery = checkpointEvery
    }

    public func validate() throws {
        func fail(_ s: String) -> ClassifierError { .invalidConfiguration(s) }
        guard epochs > 0, epochs.isFinite else { throw fail("--epochs must be > 0, got \(epochs)") }
        guard batchSize >= 1 else { throw fail("--batch must be ≥ 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("--lr must be > 0, got \(learningRate)") }
        guard checkpointEvery >= 1 else { throw fail("--checkpoint-every must be ≥ 1, got \(checkpointEvery)") }
    }
}

/// Images of a data set as network input: `[n, 1, H, W]` in [0, 1].
public func imageBatch<S: TensorScalar>(_ data: ImageDataset, indices: [Int]) -> (Tensor<S>, [Int]) {
    let p = data.pixelsPerImage
    var values = [S](repeating: 0, count: indices.count * p)
    for (row, i) in indices.enumerated() {
        for j in 0..<p { values[row * p + j] = S(Double(data.images[i * p + j]) / 255) }
    }
    return (Tensor(shape: [indices.count, 1, data.height, data.width], scalars: values), indices.map { Int(data.labels[$0]) })
}

/// Cross-entropy training of an ``ImageClassifier`` with Adam: batches that depend only on
/// `(seed, iteration)`, periodic atomic checkpoints with the optimizer state, exact resume.
///
/// Data parallel (``parallel`` over several ranks): each rank classifies its ``BatchShard`` of
/// the global batch, gradients meet in one all-reduce, rank 0 alone writes files, and a
/// checkpoint resumes under any number of ranks.
public final class ClassifierTrainer {
    public let model: ImageClassifier<Float>
    public let options: ClassifierTrainingOptions
    public let data: ImageDataset
    public let directory: URL
    public let metadata: [String: String]
    private let optimizer: Adam<Float>
    public private(set) var iteration = 0
    /// The ranks this run is spread over (one process by default).
    public let parallel: DataParallel<Float>

    public init(
        model: ImageClassifier<Float>, options: ClassifierTrainingOptions, data: ImageDataset, directory: URL,
        metadata: [String: String], parallel: DataParallel<Float> = DataParallel()
    ) throws {
        self.parallel = parallel
        try options.validate()
        guard data.count >= 1 else { throw ClassifierError.invalidConfiguration("the training set is empty") }
        self.model = model
        self.options = options
        self.data = data
        self.directory = directory
        self.metadata = metadata
        optimizer = Adam(parameters: model.parameters, learningRate: options.learningRate)
    }

    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }
    var batchesPerEpoch: Int { Swift.max(1, data.count / Swift.min(options.batchSize, data.count)) }
    /// Iterations of the whole run.
    public var totalIterations: Int { Swift.max(1, Int((options.epochs * Double(batchesPerEpoch)).rounded(.up))) }

    /// Indices of the batch of `iteration` (1-based): a fresh permutation per epoch.
    func batchIndices(_ iteration: Int) -> [Int] {
        let epoch = (iteration - 1) / batchesPerEpoch
        let index = (iteration - 1) % batchesPerEpoch
        var order = Array(0..<data.count)
        var rng = RandomGenerator(seed: options.seed &* 0x9E37_79B9 &+ UInt64(epoch) &+ 0xC1)
        order.shuffle(using: &rng)
        let m = Swift.min(options.batchSize, data.count)
        return Array(order[(index * m)..<(index * m + m)])
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
                mismatch: { ClassifierError.resumeMismatch($0) })
        }
        try parallel.synchronize(parameters: model.namedParameters, optimizer: optimizer)
    }

    /// Trains to ``totalIterations``; `shouldStop` is polled between iterations (signals).
    public func train(shouldStop: () -> Bool = { false }, progress: (ClassifierRecord) -> Void = { _ in }) throws {
        var metrics: MetricsLog? = nil
        if parallel.isRoot {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            metrics = try MetricsLog(url: metricsURL, keepingFirst: iteration)
        }
        if iteration == 0 { try parallel.synchronize(parameters: model.namedParameters, optimizer: optimizer) }
        while iteration < totalIterations {
            if try parallel.agree([shouldStop()])[0] {  // every rank stops at the same iteration
                try saveCheckpoint()
                throw ClassifierError.interrupted(iteration: iteration)
            }
            let i = iteration + 1
            let start = Date()
            // Data parallel: this rank's images of the global batch.
            let globalIndices = batchIndices(i)
            let shard = try parallel.shard(globalCount: globalIndices.count)
            let (x, labels): (Tensor<Float>, [Int]) = imageBatch(data, indices: Array(globalIndices[shard.rows]))
            let (localLoss, localAccuracy, out, localGradients) = try withGradient { () throws -> (Double, Double, ImageClassifier<Float>.Output, [Tensor<Float>]) in
                let out = try model.forward(Variable(x))
                let loss = crossEntropy(out.logits, labels: labels)
                let grads = gradients(of: loss, wrt: model.parameters).map(\.value)
                return (Double(loss.value.scalar), accuracy(out.logits.value, labels: labels), out, grads)
            }
            var grads = localGradients
            let totals = try parallel.reduce(
                &grads, shard: shard, means: [localLoss, localAccuracy], perRank: [Double(out.nfe), Double(out.backward?.nfe ?? 0)])
            let (loss, acc) = (totals.means[0], totals.means[1])
            guard loss.isFinite, grads.allSatisfy({ $0.isFinite }) else {
                throw ClassifierError.diverged(iteration: i)
            }
            optimizer.step(gradients: grads)
            iteration = i
            let seconds = Date().timeIntervalSince(start)
            let (forward, backward) = (totals.perRank[0], totals.perRank[1])
            var record = ClassifierRecord(
                iteration: i, epoch: Double(i) / Double(batchesPerEpoch), loss: loss, accuracy: acc,
                nfe_forward: Int(forward.max()!), nfe_backward: Int(backward.max()!), seconds: seconds,
                images_per_second: Double(globalIndices.count) / Swift.max(seconds, 1e-9))
            if parallel.isDistributed {
                record.ranks = parallel.communicator.size
                record.nfe_forward_mean = forward.reduce(0, +) / Double(forward.count)
                record.nfe_backward_mean = backward.reduce(0, +) / Double(backward.count)
            }
            try metrics?.append(record)
            progress(record)
            try parallel.checkReplicas(model.parameters, iteration: i)
            if iteration % options.checkpointEvery == 0 || iteration == totalIterations { try saveCheckpoint() }
        }
    }
}

/// Test-set accuracy, mean loss and mean forward NFE of a classifier, in batches.
/// `progress(done, total)` is called after every batch; an error it throws stops the evaluation.
public func evaluateClassifier(
    _ model: ImageClassifier<Float>, on data: ImageDataset, options: ODEOptions? = nil, batchSize: Int = 500,
    progress: (Int, Int) throws -> Void = { _, _ in }
) throws -> (accuracy: Double, loss: Double, nfe: Double, imagesPerSecond: Double) {
    var correct = 0.0, lossSum = 0.0, nfeSum = 0.0, batches = 0.0
    let start = Date()
    var begin = 0
    while begin < data.count {
        let indices = Array(begin..<Swift.min(data.count, begin + batchSize))
        let (x, labels): (Tensor<Float>, [Int]) = imageBatch(data, indices: indices)
        let out = try withoutGradient { try model.forward(Variable(x), options: options) }
        correct += accuracy(out.logits.value, labels: labels) * Double(indices.count)
        lossSum += Double(withoutGradient { crossEntropy(out.logits, labels: labels) }.value.scalar) * Double(indices.count)
        nfeSum += Double(out.nfe)
        batches += 1
        begin += batchSize
        try progress(Swift.min(begin, data.count), data.count)
    }
    let n = Double(Swift.max(1, data.count))
    return (correct / n, lossSum / n, nfeSum / Swift.max(1, batches), n / Swift.max(Date().timeIntervalSince(start), 1e-9))
}
