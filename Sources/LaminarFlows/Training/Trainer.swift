import Foundation
import LaminarAutodiff
import LaminarDistributed
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
    /// Data-parallel runs: the number of ranks; `nfe_forward`/`nfe_backward` are then the
    /// largest count over the ranks (the step waits for the slowest) and these the means.
    public var ranks: Int?
    public var nfe_forward_mean: Double?
    public var nfe_backward_mean: Double?
    /// Data-parallel runs: seconds of this iteration spent in the gradient all-reduce on rank 0,
    /// including the wait for the slowest rank.
    public var allreduce_seconds: Double?
}

/// Training of any ``Flow`` with Adam on a ``TrainingObjective`` (maximum likelihood by default): batches, loss, gradient, divergence
/// checks, metrics file, periodic atomic checkpoints and exact resume.
///
/// Reproducibility: the batch and the estimator noise of iteration `i` are functions of
/// `(seed, i)` only, and checkpoints hold the parameters and the optimizer state, so an
/// interrupted and resumed run follows the uninterrupted run bit for bit.
///
/// Data parallel (``parallel`` over several ranks): every rank draws iteration `i`'s global
/// batch and noise and computes its ``BatchShard`` of it; the gradients meet in one
/// all-reduce; only rank 0 writes the run directory; stops happen on every rank at the same
/// iteration. A checkpoint holds nothing rank-specific, so it resumes under any number of
/// ranks.
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
    /// The ranks this run is spread over (one process by default).
    public let parallel: DataParallel<F.Scalar>

    public init(
        flow: F, options: TrainingOptions, source: BatchSource<F.Scalar>, directory: URL,
        metadata: [String: String], objective: (any TrainingObjective<F.Scalar>)? = nil,
        parallel: DataParallel<F.Scalar> = DataParallel()
    ) throws {
        try options.validate()
        self.objective = objective ?? MaximumLikelihood<F.Scalar>()
        self.parallel = parallel
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
    /// metrics file to the checkpointed iteration. Data parallel: rank 0 reads the file and
    /// every other rank receives its state.
    public func resume() throws {
        let point = try parallel.communicator.decidedOnRoot { try restoreFromCheckpointFile() }
        (iteration, learningRateScale, elapsedSeconds) = (point.iteration, point.learningRateScale, point.elapsedSeconds)
        try parallel.synchronize(parameters: flow.namedParameters, optimizer: optimizer)
    }

    /// Where a resumed run continues.
    private struct ResumePoint: Codable {
        var iteration: Int
        var learningRateScale: Double
        var elapsedSeconds: Double
    }

    private func restoreFromCheckpointFile() throws -> ResumePoint {
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
        let point = ResumePoint(
            iteration: Int(checkpoint.metadata["iteration"] ?? "") ?? 0,
            learningRateScale: Double(checkpoint.metadata["lr_scale"] ?? "") ?? 1,
            elapsedSeconds: Double(checkpoint.metadata["elapsed_seconds"] ?? "") ?? 0)
        try MetricsFile.truncate(metricsURL, toIteration: point.iteration)
        removeStaleTemporaryFiles()
        return point
    }

    /// Temporary files of checkpoint writes that a killed process left behind.
    private func removeStaleTemporaryFiles() {
        let prefix = ".\(checkpointURL.lastPathComponent).tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Writes the checkpoint atomically (rank 0 only; other ranks return at once).
    public func saveCheckpoint() throws {
        guard parallel.isRoot else { return }
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
        var metrics: MetricsFile? = nil
        if parallel.isRoot {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            if iteration == 0 {
                // A fresh run: drop lines a killed earlier attempt (without a checkpoint) wrote.
                try MetricsFile.truncate(metricsURL, toIteration: 0)
                removeStaleTemporaryFiles()
            }
            metrics = try MetricsFile(url: metricsURL)
        }
        if iteration == 0 {
            try flow.prepare(source.batch(iteration: 1, size: options.batchSize, seed: options.seed))
            try parallel.synchronize(parameters: flow.namedParameters, optimizer: optimizer)
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
            // Or-ed over the ranks, so that every rank stops at the same iteration.
            let stop = try parallel.agree([options.timeBudget.map { elapsedSeconds >= $0 } ?? false, shouldStop()])
            if stop[0] {
                try saveCheckpoint()
                stoppedAtTimeBudget = true
                return
            }
            if stop[1] {
                try saveCheckpoint()
                throw TrainingError.interrupted(iteration: iteration)
            }
            let i = iteration + 1
            let record: IterationRecord
            do {
                record = try step(i)
            } catch let error as TrainingError {
                if case .diverged = error, options.onDivergence == .restoreAndHalveLR,
                   try parallel.communicator.decidedOnRoot({ FileManager.default.fileExists(atPath: checkpointURL.path) }) {
                    let scale = learningRateScale * 0.5
                    guard scale >= 1.0 / 1024 else { throw error }  // ten halvings did not help
                    try resume()
                    clock = Date()
                    learningRateScale = scale
                    metrics = parallel.isRoot ? try MetricsFile(url: metricsURL) : nil  // resume() replaced the file
                    continue
                }
                throw error
            }
            iteration = i
            try metrics?.append(record)
            progress(record)
            try parallel.checkReplicas(flow.parameters, iteration: i)
            if iteration % options.checkpointEvery == 0 || iteration == options.iterations {
                tick()
                try saveCheckpoint()
            }
        }
    }

    private func step(_ i: Int) throws -> IterationRecord {
        let start = Date()
        let (batch, preprocessingLogDet) = source.batchWithLogDeterminant(iteration: i, size: options.batchSize, seed: options.seed)
        // Data parallel: this rank's rows of the global batch (all of them in one process).
        let shard = try parallel.shard(globalCount: batch.shape[0])
        let x = Variable(shard.rows(of: batch))
        var rng = RandomGenerator(seed: mix(options.seed, UInt64(i), 0x4E))
        let objective: TrainingLoss<F.Scalar>
        do {
            objective = try BatchShard.$current.withValue(shard) {
                try withGradient { try self.objective.loss(of: flow, batch: x, using: &rng) }
            }
        } catch {
            throw TrainingError.solverFailed(iteration: i, message: "\(error)")
        }
        let overNFE = options.maxNFE.map { objective.nfeForward > $0 } ?? false
        if overNFE && !parallel.isDistributed {
            throw TrainingError.nfeBudgetExceeded(iteration: i, nfe: objective.nfeForward, budget: options.maxNFE!)
        }
        let localLoss = Double(objective.loss.value.scalar)
        if !parallel.isDistributed && !localLoss.isFinite {
            throw TrainingError.diverged(iteration: i, cause: "the loss is \(localLoss)")
        }
        // A rank over the NFE budget skips its backward pass; the reduction below stops every rank.
        var grads = overNFE
            ? flow.parameters.map { Tensor(zeros: $0.shape) }
            : gradients(of: objective.loss, wrt: flow.parameters).map(\.value)
        let totals = try reduceAcrossRanks(&grads, objective: objective, shard: shard, iteration: i)
        let loss = totals.loss
        let norm = clipGradientNorm(&grads, maxNorm: options.gradientClip ?? .infinity)
        guard norm.isFinite else {
            throw TrainingError.diverged(iteration: i, cause: "the gradient norm is \(norm)")
        }
        let lr = learningRate(at: i)
        optimizer.learningRate = lr
        optimizer.step(gradients: grads)
        var record = IterationRecord(
            iteration: i, loss: loss, nll: totals.nll.isNaN ? nil : totals.nll, nfe_forward: totals.nfeForwardMax,
            nfe_backward: totals.nfeBackwardMax, seconds: Date().timeIntervalSince(start),
            grad_norm: norm, lr: lr)
        record.end_time = flow.endTime
        record.kinetic = totals.regularizers["kinetic"]
        record.jacobian = totals.regularizers["jacobian"]
        if parallel.isDistributed {
            record.ranks = parallel.communicator.size
            (record.nfe_forward_mean, record.nfe_backward_mean) = (totals.nfeForwardMean, totals.nfeBackwardMean)
            record.allreduce_seconds = totals.allReduceSeconds
        }
        if case .images = source, !totals.nll.isNaN {
            record.bits_per_dim = ImagePreprocessing.bitsPerDimension(
                logProbability: -totals.nll, logDeterminant: preprocessingLogDet, dimension: source.dimension)
        }
        return record
    }
}
