import Foundation
import LaminarAutodiff
import LaminarDistributed
import LaminarNN
import LaminarTensor

/// The one training loop: any ``TrainingTask`` trained with Adam, with a learning-rate warm-up,
/// a time budget counted across resumes, an NFE budget, a divergence policy, stop requests,
/// periodic atomic checkpoints, the metrics log and exact resume.
///
/// Reproducibility: the task's step depends only on `(seed, iteration)`, and the checkpoint
/// holds the parameters, the optimizer state and the run's counters, so an interrupted and
/// resumed run follows the uninterrupted one bit for bit.
///
/// Data parallel (``parallel`` over several ranks): every rank computes its `BatchShard` of
/// the global batch; gradients, the step's means and every rank's NFE meet in one all-reduce;
/// stop decisions are or-ed over the ranks so that every rank stops at the same iteration; only
/// rank 0 writes the run directory. A checkpoint holds nothing rank-specific, so it resumes under
/// any number of ranks.
public final class TrainingRun<Task: TrainingTask> {
    /// The model's side of the run.
    public let task: Task
    /// Optimisation settings.
    public let options: TrainingOptions
    /// Where the checkpoint, the metrics and the summary go.
    public let directory: RunDirectory
    /// The ranks this run is spread over (one process by default).
    public let parallel: DataParallel<Task.Scalar>
    private let optimizer: Adam<Task.Scalar>
    /// Iterations completed.
    public private(set) var iteration = 0
    /// The factor divergence halvings left on the learning rate.
    public private(set) var learningRateScale = 1.0
    /// Wall-clock seconds of training so far, across resumes (for ``TrainingOptions/timeBudget``).
    public private(set) var elapsedSeconds = 0.0
    /// Whether the last ``train(shouldStop:progress:)`` ended at the time budget.
    public private(set) var stoppedAtTimeBudget = false

    /// A run of `task` in `directory`; nothing is read or written yet.
    /// - Throws: ``TrainingError/invalidOptions(_:)`` naming the flag of an option out of range.
    public init(
        task: Task, options: TrainingOptions, directory: URL, parallel: DataParallel<Task.Scalar> = DataParallel()
    ) throws {
        try options.validate()
        self.task = task
        self.options = options
        self.directory = RunDirectory(directory)
        self.parallel = parallel
        optimizer = Adam(
            parameters: task.namedParameters.map(\.1), learningRate: options.learningRate, weightDecay: options.weightDecay)
    }

    /// Starts a fresh run, or with `resume` continues the directory's: a fresh run refuses a
    /// directory that already holds a checkpoint, a resumed one needs it. Rank 0 looks.
    public func start(resume: Bool) throws {
        let directory = self.directory
        let exists = try parallel.communicator.decidedOnRoot { directory.hasCheckpoint }
        if resume {
            guard exists else { throw TrainingError.resumeMismatch("no checkpoint at \(directory.checkpointURL.path) to resume from") }
            try self.resume()
        } else if exists {
            throw TrainingError.resumeMismatch(
                "\(directory.url.path) already holds a run; pass --resume to continue it or choose another --out")
        }
    }

    /// Loads the checkpoint (parameters, optimizer state, counters), checks that it was written
    /// for the same model and data, and keeps the metrics of the iterations it covers. Data
    /// parallel: rank 0 reads the file and every other rank receives its state.
    public func resume() throws {
        let point = try parallel.communicator.decidedOnRoot { try restoreFromCheckpointFile() }
        (iteration, learningRateScale, elapsedSeconds) = (point.iteration, point.learningRateScale, point.elapsedSeconds)
        try parallel.synchronize(parameters: task.namedParameters, optimizer: optimizer)
    }

    /// Where a resumed run continues.
    private struct ResumePoint: Codable {
        var iteration: Int
        var learningRateScale: Double
        var elapsedSeconds: Double
    }

    private func restoreFromCheckpointFile() throws -> ResumePoint {
        let url = directory.checkpointURL
        let checkpoint = try Checkpoint<Task.Scalar>.load(from: url)
        let metadata = task.checkpointMetadata
        // The model name first: "different model (planar)" says more than a configuration diff.
        let keys = metadata.keys.filter { !RunCheckpointKey.counters.contains($0) }
            .sorted { ($0 == RunCheckpointKey.model ? 0 : 1, $0) < ($1 == RunCheckpointKey.model ? 0 : 1, $1) }
        for key in keys {
            if let stored = checkpoint.metadata[key], stored != metadata[key] {
                throw TrainingError.resumeMismatch(
                    "\(url.path) was written with a different \(key) (\(stored)); start a new --out directory or use the same settings")
            }
        }
        try checkpoint.restore(parameters: task.namedParameters)
        try optimizer.load(state: checkpoint.optimizerState(prefix: "optimizer."))
        let point = ResumePoint(
            iteration: Int(checkpoint.metadata[RunCheckpointKey.iteration] ?? "") ?? 0,
            learningRateScale: Double(checkpoint.metadata[RunCheckpointKey.learningRateScale] ?? "") ?? 1,
            elapsedSeconds: Double(checkpoint.metadata[RunCheckpointKey.elapsedSeconds] ?? "") ?? 0)
        _ = try MetricsLog(url: directory.metricsURL, keepingFirst: point.iteration)
        directory.removeStaleTemporaryFiles()
        return point
    }

    /// Writes the checkpoint atomically (rank 0 only; other ranks return at once).
    public func saveCheckpoint() throws {
        guard parallel.isRoot else { return }
        var meta = task.checkpointMetadata
        meta[RunCheckpointKey.training] = try compactJSON(options)
        meta[RunCheckpointKey.iteration] = String(iteration)
        meta[RunCheckpointKey.learningRateScale] = String(learningRateScale)
        meta[RunCheckpointKey.seed] = String(options.seed)
        meta[RunCheckpointKey.elapsedSeconds] = String(elapsedSeconds)
        try Checkpoint<Task.Scalar>.save(
            parameters: task.namedParameters, optimizerState: optimizer.state(prefix: "optimizer."),
            metadata: meta, to: directory.checkpointURL)
    }

    /// The learning rate at `iteration` (1-based): linear warm-up, then constant (times the
    /// divergence halvings).
    public func learningRate(at iteration: Int) -> Double {
        let base = options.learningRate * learningRateScale
        guard options.warmup > 0 else { return base }
        return base * Swift.min(1, Double(iteration) / Double(options.warmup))
    }

    /// Runs until ``TrainingOptions/iterations``, or until ``TrainingOptions/timeBudget``
    /// seconds of training have passed (a checkpoint is written and ``stoppedAtTimeBudget``
    /// set), calling `progress` after every iteration. `shouldStop` is polled between iterations
    /// (signals); when it returns true on any rank a checkpoint is written and
    /// ``TrainingError/interrupted(iteration:)`` thrown.
    public func train(shouldStop: () -> Bool = { false }, progress: (Task.Record) -> Void = { _ in }) throws {
        var metrics: MetricsLog? = nil
        if parallel.isRoot {
            try directory.create()
            // A fresh run drops what a killed attempt without a checkpoint wrote.
            if iteration == 0 { directory.removeStaleTemporaryFiles() }
            metrics = try MetricsLog(url: directory.metricsURL, keepingFirst: iteration)
        }
        if iteration == 0 {
            try task.prepare(options: options)
            try parallel.synchronize(parameters: task.namedParameters, optimizer: optimizer)
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
            let record: Task.Record
            do {
                record = try step(i)
            } catch let error as TrainingError {
                let directory = self.directory
                if case .diverged = error, options.onDivergence == .restoreAndHalveLR,
                   try parallel.communicator.decidedOnRoot({ directory.hasCheckpoint }) {
                    let scale = learningRateScale * 0.5
                    guard scale >= 1.0 / 1024 else { throw error }  // ten halvings did not help
                    try resume()
                    clock = Date()
                    learningRateScale = scale
                    metrics = parallel.isRoot ? try MetricsLog(url: directory.metricsURL, keepingFirst: iteration) : nil
                    continue
                }
                throw error
            }
            iteration = i
            try metrics?.append(record)
            progress(record)
            try parallel.checkReplicas(task.parameters, iteration: i)
            if iteration % options.checkpointEvery == 0 || iteration == options.iterations {
                tick()
                try saveCheckpoint()
            }
        }
    }

    /// One iteration: the task's step, the all-reduce, the checks every rank makes alike
    /// (NFE budget, finite loss and gradient), clipping, the learning rate and Adam.
    private func step(_ i: Int) throws -> Task.Record {
        let start = Date()
        let local = try task.step(StepContext(iteration: i, options: options, parallel: parallel))
        var grads = local.gradients
        let reduceStart = Date()
        let reduced = try parallel.reduce(
            &grads, shard: local.shard, means: local.means, perRank: [Double(local.forwardNFE), Double(local.backwardNFE)])
        let allReduceSeconds = Date().timeIntervalSince(reduceStart)
        let forward = reduced.perRank[0], backward = reduced.perRank[1]
        let forwardMax = Int(forward.max()!)
        if let budget = options.maxNFE, forwardMax > budget {
            throw TrainingError.nfeBudgetExceeded(iteration: i, nfe: forwardMax, budget: budget)
        }
        let loss = reduced.means[0]
        guard loss.isFinite else { throw TrainingError.diverged(iteration: i, cause: "the loss is \(loss)") }
        let norm = clipGradientNorm(&grads, maxNorm: options.gradientClip ?? .infinity)
        guard norm.isFinite else { throw TrainingError.diverged(iteration: i, cause: "the gradient norm is \(norm)") }
        let lr = learningRate(at: i)
        optimizer.learningRate = lr
        optimizer.step(gradients: grads)
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        var summary = StepSummary(
            iteration: i, means: reduced.means, forwardNFE: forwardMax, backwardNFE: Int(backward.max()!),
            gradientNorm: norm, learningRate: lr, seconds: Date().timeIntervalSince(start))
        if parallel.isDistributed {
            summary.ranks = parallel.communicator.size
            (summary.forwardNFEMean, summary.backwardNFEMean) = (mean(forward), mean(backward))
            summary.allReduceSeconds = allReduceSeconds
        }
        return task.record(summary)
    }
}
