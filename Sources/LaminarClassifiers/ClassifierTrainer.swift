import Foundation
import LaminarAutodiff
import LaminarData
import LaminarDistributed
import LaminarNN
import LaminarODE
@_exported import LaminarTraining

/// One line of a classifier run's `metrics.jsonl`.
public struct ClassifierRecord: TrainingRecord {
    /// The 1-based iteration.
    public var iteration: Int
    /// Epochs completed (fractional).
    public var epoch: Double
    /// Mean cross-entropy of the global batch.
    public var loss: Double
    /// Training accuracy on the global batch.
    public var accuracy: Double
    /// Forward function evaluations of the ODE block (0 for ResNet).
    public var nfe_forward: Int
    /// Backward function evaluations of the ODE block.
    public var nfe_backward: Int
    /// Wall-clock seconds of the iteration.
    public var seconds: Double
    /// Training throughput of the iteration.
    public var images_per_second: Double
    /// Data-parallel runs: the number of ranks; `nfe_forward`/`nfe_backward` are then the
    /// largest count over the ranks and these the means.
    public var ranks: Int?
    /// Mean forward NFE over the ranks (data-parallel runs).
    public var nfe_forward_mean: Double?
    /// Mean backward NFE over the ranks (data-parallel runs).
    public var nfe_backward_mean: Double?
}

/// Training settings of `laminar classify train`: the run's length in epochs and the loop's
/// settings (``LoopSettings``: batch, learning rate, warm-up, clipping, NFE and time budgets,
/// divergence policy), which read as members (`options.batchSize`). No weight decay. Coded as
/// one flat JSON object.
public struct ClassifierTrainingOptions: ModelTrainingOptions, Equatable {
    /// Training epochs (fractions allowed).
    public var epochs: Double
    /// Batch, learning rate, seed, checkpoint cadence, budgets and safeguards.
    public var loop: LoopSettings

    /// The paper's defaults (batch 128, learning rate 1e-3) for everything not given.
    public init(epochs: Double = 1, loop: LoopSettings = LoopSettings(batchSize: 128)) {
        (self.epochs, self.loop) = (epochs, loop)
    }

    /// The JSON key of the run's length.
    public static let lengthKey = "epochs"

    /// The run's length: ``epochs``.
    public var runLength: Double { epochs }

    /// Options of `runLength` epochs with `loop`.
    public init(runLength: Double, loop: LoopSettings) { self.init(epochs: runLength, loop: loop) }

    /// The loop's options for a training set of `count` images.
    public func trainingOptions(trainingImages count: Int) -> TrainingOptions {
        let perEpoch = Swift.max(1, count / Swift.max(1, Swift.min(loop.batchSize, count)))
        let iterations = epochs.isFinite ? Swift.max(1, Int((epochs * Double(perEpoch)).rounded(.up))) : 1
        return loop.trainingOptions(iterations: iterations)
    }

    /// Validates the ranges; the message names the flag.
    public func validate() throws {
        guard epochs > 0, epochs.isFinite else { throw TrainingError.invalidOptions("--epochs must be > 0, got \(epochs)") }
        try trainingOptions(trainingImages: 1).validate()
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

/// Cross-entropy training of an ``ImageClassifier`` with Adam: the classifier's step (batches
/// that depend only on `(seed, iteration)`, loss, accuracy, NFE) run by the shared
/// `TrainingRun` loop, which owns checkpoints, metrics, budgets, signals, ranks and exact resume.
///
/// Data parallel (``parallel`` over several ranks): each rank classifies its `BatchShard` of
/// the global batch.
public final class ClassifierTrainer: ModelTrainer {
    /// The classifier being trained.
    public let model: ImageClassifier<Float>
    /// Training settings.
    public let options: ClassifierTrainingOptions
    /// The training images.
    public let data: ImageDataset
    /// Metadata stored in every checkpoint (model, configuration, data).
    public let metadata: [String: String]
    /// The loop that runs the classifier's steps.
    public let run: TrainingRun<ClassifierTrainingTask>

    /// A trainer writing to `directory`; nothing is read or written yet.
    public init(
        model: ImageClassifier<Float>, options: ClassifierTrainingOptions, data: ImageDataset, directory: URL,
        metadata: [String: String], parallel: DataParallel<Float> = DataParallel()
    ) throws {
        try options.validate()
        guard data.count >= 1 else { throw ClassifierError.invalidConfiguration("the training set is empty") }
        (self.model, self.options, self.data, self.metadata) = (model, options, data, metadata)
        run = try TrainingRun(
            task: ClassifierTrainingTask(model: model, data: data, metadata: metadata),
            options: options.trainingOptions(trainingImages: data.count), directory: directory, parallel: parallel)
    }

    /// Iterations of the whole run.
    public var totalIterations: Int { run.options.iterations }
}

/// A classifier's training step for `TrainingRun`: the images of `(seed, iteration)`, the
/// cross-entropy on this rank's share, accuracy and NFE.
public final class ClassifierTrainingTask: TrainingTask {
    /// The classifier being trained.
    public let model: ImageClassifier<Float>
    /// The training images.
    public let data: ImageDataset
    /// Model, configuration and data, for the checkpoint.
    public let checkpointMetadata: [String: String]
    private var lastBatchCount = 0

    /// The task of training `model` on `data`.
    public init(model: ImageClassifier<Float>, data: ImageDataset, metadata: [String: String]) {
        (self.model, self.data, self.checkpointMetadata) = (model, data, metadata)
    }

    /// The classifier's parameters.
    public var namedParameters: [(String, Variable<Float>)] { model.namedParameters }

    /// Indices of the batch of `iteration` (1-based): a fresh permutation per epoch.
    func batchIndices(_ iteration: Int, options: TrainingOptions) -> [Int] {
        let m = Swift.min(options.batchSize, data.count)
        let perEpoch = Swift.max(1, data.count / m)
        let epoch = (iteration - 1) / perEpoch
        let index = (iteration - 1) % perEpoch
        var order = Array(0..<data.count)
        var rng = RandomGenerator(seed: options.seed &* 0x9E37_79B9 &+ UInt64(epoch) &+ 0xC1)
        order.shuffle(using: &rng)
        return Array(order[(index * m)..<(index * m + m)])
    }

    /// Cross-entropy and accuracy of this rank's images of the iteration's batch.
    public func step(_ context: StepContext<Float>) throws -> TaskStep<Float> {
        // Data parallel: this rank's images of the global batch.
        let globalIndices = batchIndices(context.iteration, options: context.options)
        lastBatchCount = globalIndices.count
        let shard = try context.parallel.shard(globalCount: globalIndices.count)
        let (x, labels): (Tensor<Float>, [Int]) = imageBatch(data, indices: Array(globalIndices[shard.rows]))
        let (loss, acc, out, grads) = try withGradient { () throws -> (Double, Double, ImageClassifier<Float>.Output, [Tensor<Float>]) in
            let out = try model.forward(Variable(x))
            let loss = crossEntropy(out.logits, labels: labels)
            let grads = gradients(of: loss, wrt: model.parameters).map(\.value)
            return (Double(loss.value.scalar), accuracy(out.logits.value, labels: labels), out, grads)
        }
        return TaskStep(
            gradients: grads, shard: shard, means: [loss, acc], forwardNFE: out.nfe, backwardNFE: out.backward?.nfe ?? 0)
    }

    /// The record of a completed iteration.
    public func record(_ s: StepSummary) -> ClassifierRecord {
        let perEpoch = Swift.max(1, data.count / Swift.max(1, lastBatchCount))
        var record = ClassifierRecord(
            iteration: s.iteration, epoch: Double(s.iteration) / Double(perEpoch), loss: s.loss, accuracy: s.means[1],
            nfe_forward: s.forwardNFE, nfe_backward: s.backwardNFE, seconds: s.seconds,
            images_per_second: Double(lastBatchCount) / Swift.max(s.seconds, 1e-9))
        (record.ranks, record.nfe_forward_mean, record.nfe_backward_mean) = (s.ranks, s.forwardNFEMean, s.backwardNFEMean)
        return record
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
