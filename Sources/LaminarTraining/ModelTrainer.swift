import Foundation
import LaminarNN

/// A model's trainer (`FlowTrainer`, `ClassifierTrainer`, `LatentTrainer`): a value that owns a
/// ``TrainingRun`` of the model's ``TrainingTask`` and exposes its lifecycle under the model's
/// own name. Everything here is the run's; a conformer adds only what is particular to its model.
public protocol ModelTrainer: AnyObject {
    /// The model's training step.
    associatedtype Task: TrainingTask
    /// The loop that runs the model's steps.
    var run: TrainingRun<Task> { get }
}

extension ModelTrainer {
    /// The run directory (`--out`).
    public var directory: URL { run.directory.url }
    /// `checkpoint.safetensors` of the run directory.
    public var checkpointURL: URL { run.directory.checkpointURL }
    /// `metrics.jsonl` of the run directory.
    public var metricsURL: URL { run.directory.metricsURL }
    /// The ranks this run is spread over (one process by default).
    public var parallel: DataParallel<Task.Scalar> { run.parallel }
    /// Iterations completed.
    public var iteration: Int { run.iteration }
    /// Wall-clock seconds of training so far, across resumes.
    public var elapsedSeconds: Double { run.elapsedSeconds }
    /// Whether the last ``train(shouldStop:progress:)`` ended at the time budget.
    public var stoppedAtTimeBudget: Bool { run.stoppedAtTimeBudget }

    /// Starts a fresh run or continues the directory's; see ``TrainingRun/start(resume:)``.
    public func start(resume: Bool) throws { try run.start(resume: resume) }

    /// Restores the checkpoint (rank 0 reads it, every rank receives its state); see
    /// ``TrainingRun/resume()``.
    public func resume() throws { try run.resume() }

    /// Writes the checkpoint atomically (rank 0 only).
    public func saveCheckpoint() throws { try run.saveCheckpoint() }

    /// Trains to the run's iteration count or its time budget; see
    /// ``TrainingRun/train(shouldStop:progress:)``.
    public func train(shouldStop: () -> Bool = { false }, progress: (Task.Record) -> Void = { _ in }) throws {
        try run.train(shouldStop: shouldStop, progress: progress)
    }
}
