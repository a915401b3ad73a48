import Foundation
import Laminar

/// Trains `trainer` to its end behind a progress bar showing `fields` of every record; SIGINT
/// and SIGTERM stop it between iterations with a checkpoint. When an iteration needs more
/// function evaluations than `--max-nfe`, the last completed iteration is checkpointed (the
/// failed step changed no parameter) before the error is rethrown, so that `--resume` with a
/// larger budget continues from there. On rank 0, says when the time budget ended the run.
func trainWithProgress<Trainer: ModelTrainer>(
    _ trainer: Trainer, logEvery: Int = 100, fields: (Trainer.Task.Record) -> [(String, String)]
) throws {
    let options = trainer.run.options
    let bar = ProgressBar(
        total: options.iterations, startIteration: trainer.iteration, logEvery: logEvery, timeBudget: options.timeBudget,
        elapsed: trainer.elapsedSeconds)
    do {
        defer { bar.finish() }
        try trainer.train(shouldStop: { SignalFlag.isSet }) { bar.update(iteration: $0.iteration, fields: fields($0)) }
    } catch let error as TrainingError {
        guard case .nfeBudgetExceeded = error else { throw error }
        try trainer.saveCheckpoint()
        if trainer.parallel.isRoot {
            note("checkpoint written at iteration \(trainer.iteration): continue with --resume and a larger --max-nfe")
        }
        throw error
    }
    if trainer.parallel.isRoot, trainer.stoppedAtTimeBudget {
        note(String(format: "time budget reached after %.0f s at iteration %d", trainer.elapsedSeconds, trainer.iteration))
    }
}
