import Foundation
import LaminarAutodiff
import LaminarNN

/// One line of `metrics.jsonl`.
public struct IterationRecord: Codable, Sendable {
    public var iteration: Int
    public var loss: Double
    /// Mean negative log-likelihood of the batch (nats); absent when the objective is not a
    /// likelihood (flow matching).
    public var nll: Double?
    public var nfe_forward: Int
    public var nfe_backward: Int
    /// Wall-clock seconds of this iteration.
    public var seconds: Double
    public var grad_norm: Double
    public var lr: Double
    public var end_time: Double?
    public var kinetic: Double?
    public var jacobian: Double?
    /// Images: the batch's bits per dimension (training estimator, dequantized pixels).
    public var bits_per_dim: Double?
}

/// Training of any ``Flow`` with Adam on a ``TrainingObjective`` (maximum likelihood by default): batches, loss, gradient, divergence
/// checks, metrics file, periodic atomic checkpoints and exact resume.
///
/// Reproducibility: the batch and the estimator noise of iteration `i` are functions of
/// `(seed, i)` only, and checkpoints hold the parameters and the optimizer state, so an
/// interrupted and resumed run follows the uninterrupted run bit for bit.
public final class FlowTrainer<F: Flow> {
    public let flow: F
    public let options: TrainingOptions
    public let source: BatchSource<F.Scalar>
    /// Run directory: `metrics.jsonl`, `checkpoint.safetensors`.
    public let directory: URL
    /// Extra metadata stored in every checkpoint (model configuration JSON, data name …).
    public let metadata: [String: String]
    /// What each step minimises: ``MaximumLikelihood`` or ``FlowMatching``.
    public let objective: any TrainingObjective<F.Scalar>
    private let optimizer: Adam<F.Scalar>
    /// Iterations completed.
    public private(set) var iteration = 0
    private var learningRateScale = 1.0
    /// Wall-clock seconds of training so far, across resumes (for `timeBudget`).
    public private(set) var elapsedSeconds = 0.0
    /// Whether the last `train` call ended at the time budget rather than the iteration count.
    public private(set) var stoppedAtTimeBudget = false

    public init(
        flow: F, options: TrainingOptions, source: BatchSource<F.Scalar>, directory: URL,
        metadata: [String: String], objective: (any TrainingObjective<F.Scalar>)? = nil
    ) throws {
        try options.validate()
        self.objective = objective ?? MaximumLikelihood<F.Scalar>()
        self.flow = flow
        self.options = options
        self.source = source
        self.directory = directory
        self.metadata = metadata
        self.optimizer = Adam(
            parameters: flow.parameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
    }

    public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
    public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }

    /// Loads the run's checkpoint (parameters, optimizer state, iteration) and truncates the
    /// metrics file to the checkpointed iteration.
    public func resume() throws {
        let checkpoint = try Checkpoint<F.Scalar>.load(from: checkpointURL)
        // The model name first: "different model (planar)" says more than a configuration diff.
        let keys = metadata.keys.sorted { ($0 == "model" ? 0 : 1, $0) < ($1 == "model" ? 0 : 1, $1) }
        for key in keys where key != "training" {
            let value = metadata[key]!
            if let stored = checkpoint.metadata[key], stored != value {
                throw TrainingError.resumeMismatch(
                    "\(checkpointURL.path) was written with a different \(key) (\(stored)); start a new --out directory or use the same settings")
            }
        }
        try checkpoint.restore(parameters: flow.namedParameters)
        try optimizer.load(state: checkpoint.optimizerState(prefix: "optimizer."))
        iteration = Int(checkpoint.metadata["iteration"] ?? "") ?? 0
        learningRateScale = Double(checkpoint.metadata["lr_scale"] ?? "") ?? 1
        elapsedSeconds = Double(checkpoint.metadata["elapsed_seconds"] ?? "") ?? 0
        try MetricsFile.truncate(metricsURL, toIteration: iteration)
        removeStaleTemporaryFiles()
    }

    /// Temporary files of checkpoint writes that a killed process left behind.
    private func removeStaleTemporaryFiles() {
        let prefix = ".\(checkpointURL.lastPathComponent).tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Writes the checkpoint atomically.
    public func saveCheckpoint() throws {
        var meta = metadata
        meta["iteration"] = String(iteration)
        meta["lr_scale"] = String(learningRateScale)
        meta["seed"] = String(options.seed)
        meta["elapsed_seconds"] = String(elapsedSeconds)
        try Checkpoint<F.Scalar>.save(
            parameters: flow.namedParameters, optimizerState: optimizer.state(prefix: "optimizer."),
            metadata: meta, to: checkpointURL)
    }

    /// The learning rate at `iteration` (1-based): warm-up, then constant.
    func learningRate(at iteration: Int) -> Double {
        let base = options.learningRate * learningRateScale
        guard options.warmup > 0 else { return base }
        return base * Swift.min(1, Double(iteration) / Double(options.warmup))
    }

    /// Runs until `options.iterations` (or until `options.timeBudget` seconds of training have
    /// passed: then a checkpoint is written and ``stoppedAtTimeBudget`` set), calling
    /// `progress` after every iteration.
    /// `shouldStop` is polled between iterations (signals); when it returns true a checkpoint is
    /// written and ``TrainingError/interrupted(iteration:)`` thrown.
    public func train(
        shouldStop: () -> Bool = { false }, progress: (IterationRecord) -> Void = { _ in }
    ) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if iteration == 0 {
            // A fresh run: drop lines a killed earlier attempt (without a checkpoint) wrote.
            try MetricsFile.truncate(metricsURL, toIteration: 0)
            removeStaleTemporaryFiles()
        }
        var metrics = try MetricsFile(url: metricsURL)
        if iteration == 0 {
            try flow.prepare(source.batch(iteration: 1, size: options.batchSize, seed: options.seed))
        }
        stoppedAtTimeBudget = false
        var clock = Date()
        func tick() {
            let now = Date()
            elapsedSeconds += now.timeIntervalSince(clock)
            clock = now
        }
        while iteration < options.iterations {
            tick()
            if let budget = options.timeBudget, elapsedSeconds >= budget {
                try saveCheckpoint()
                stoppedAtTimeBudget = true
                return
            }
            if shouldStop() {
                try saveCheckpoint()
                throw TrainingError.interrupted(iteration: iteration)
            }
            let i = iteration + 1
            let record: IterationRecord
            do {
                record = try step(i)
            } catch let error as TrainingError {
                if case .diverged = error, options.onDivergence == .restoreAndHalveLR,
                   FileManager.default.fileExists(atPath: checkpointURL.path) {
                    let scale = learningRateScale * 0.5
                    guard scale >= 1.0 / 1024 else { throw error }  // ten halvings did not help
                    try resume()
                    clock = Date()
                    learningRateScale = scale
                    metrics = try MetricsFile(url: metricsURL)  // resume() replaced the file
                    continue
                }
                throw error
            }
            iteration = i
            try metrics.append(record)
            progress(record)
            if iteration % options.checkpointEvery == 0 || iteration == options.iterations {
                tick()
                try saveCheckpoint()
            }
        }
    }

    private func step(_ i: Int) throws -> IterationRecord {
        let start = Date()
        let (batch, preprocessingLogDet) = source.batchWithLogDeterminant(iteration: i, size: options.batchSize, seed: options.seed)
        let x = Variable(batch)
        var rng = RandomGenerator(seed: mix(options.seed, UInt64(i), 0x4E))
        let objective: TrainingLoss<F.Scalar>
        do {
            objective = try withGradient { try self.objective.loss(of: flow, batch: x, using: &rng) }
        } catch {
            throw TrainingError.solverFailed(iteration: i, message: "\(error)")
        }
        if let budget = options.maxNFE, objective.nfeForward > budget {
            throw TrainingError.nfeBudgetExceeded(iteration: i, nfe: objective.nfeForward, budget: budget)
        }
        let loss = Double(objective.loss.value.scalar)
        guard loss.isFinite else {
            throw TrainingError.diverged(iteration: i, cause: "the loss is \(loss)")
        }
        var grads = gradients(of: objective.loss, wrt: flow.parameters).map(\.value)
        let norm = clipGradientNorm(&grads, maxNorm: options.gradientClip ?? .infinity)
        guard norm.isFinite else {
            throw TrainingError.diverged(iteration: i, cause: "the gradient norm is \(norm)")
        }
        let lr = learningRate(at: i)
        optimizer.learningRate = lr
        optimizer.step(gradients: grads)
        var record = IterationRecord(
            iteration: i, loss: loss, nll: objective.nll.isNaN ? nil : objective.nll, nfe_forward: objective.nfeForward,
            nfe_backward: objective.nfeBackward, seconds: Date().timeIntervalSince(start),
            grad_norm: norm, lr: lr)
        record.end_time = flow.endTime
        record.kinetic = objective.regularizers["kinetic"]
        record.jacobian = objective.regularizers["jacobian"]
        if case .images = source, !objective.nll.isNaN {
            record.bits_per_dim = ImagePreprocessing.bitsPerDimension(
                logProbability: -objective.nll, logDeterminant: preprocessingLogDet, dimension: source.dimension)
        }
        return record
    }
}
