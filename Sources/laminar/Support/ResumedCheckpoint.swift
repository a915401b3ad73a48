import ArgumentParser
import Foundation
import Laminar

/// The checkpoint of a run that `classify train --resume` or `latent train --resume` continues:
/// its metadata, and the check of flags given again against the stored values. Flags left out
/// are read from the checkpoint; flags given must agree, except those that may change on resume
/// (iterations or epochs, threads, and the training-loop flags of ``LoopOptions``).
struct ResumedCheckpoint {
    let path: String
    let metadata: [String: String]

    /// Reads the checkpoint of `directory`, which must hold a `model` run.
    init(directory: String, model: String) throws {
        let url = RunDirectory(URL(fileURLWithPath: directory)).checkpointURL
        path = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw LaminarCLIError("cannot resume: no checkpoint at \(url.path) (drop --resume to start a run there)")
        }
        metadata = try Checkpoint<Float>.load(from: url).metadata
        let stored = metadata[RunCheckpointKey.model] ?? "?"
        guard stored == model, metadata[RunCheckpointKey.configuration] != nil else {
            let hint = stored == "classifier" ? " (use laminar classify train --resume)"
                : stored == "latent" ? " (use laminar latent train --resume)"
                : ModelSpec.names.contains(stored) ? " (use laminar train --resume)" : ""
            throw LaminarCLIError("cannot resume: \(url.path) holds a '\(stored)' model\(hint)")
        }
    }

    /// The stored configuration, decoded.
    func configuration<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data((metadata[RunCheckpointKey.configuration] ?? "").utf8))
        } catch {
            throw LaminarCLIError("cannot resume: the model configuration in \(path) does not parse (\(error))")
        }
    }

    /// The training options the run was started with (checkpoints written since they are stored).
    var training: TrainingOptions? {
        metadata[RunCheckpointKey.training].flatMap { try? JSONDecoder().decode(TrainingOptions.self, from: Data($0.utf8)) }
    }

    /// Says once that a checkpoint written before the training options were stored cannot
    /// supply `flags`: they take the values given now, or their defaults.
    func noteMissingSettings(_ flags: [String]) {
        guard training == nil else { return }
        note("\(path) predates stored training settings: \(flags.joined(separator: " and ")) \(flags.count == 1 ? "is" : "are") taken from the command line or the default; give the original run's values")
    }

    /// The run's seed.
    var seed: UInt64? { training?.seed ?? metadata[RunCheckpointKey.seed].flatMap { UInt64($0) } }

    /// Throws a usage error naming `flag`, the stored value and the given one when they differ.
    func check(_ flag: String, given: String?, stored: String?) throws {
        guard let given, let stored, given != stored else { return }
        throw resumeConflict(flag, stored: stored, given: given, checkpoint: path)
    }

    /// Checks the solver flags given again against the stored solve settings.
    func check(solver options: SolverOptions, stored: SolveSettings) throws {
        let storedValues = [
            "--solver": stored.method.name, "--rtol": "\(stored.rtol)", "--atol": "\(stored.atol)",
            "--gradient": stored.gradient.name, "--step-size": stored.stepSize.map { "\($0)" } ?? "(none)",
        ]
        for (flag, value) in options.given { try check(flag, given: value, stored: storedValues[flag]) }
    }
}

/// The usage error of every `--resume`: a flag given again disagrees with the checkpoint.
func resumeConflict(_ flag: String, stored: String, given: String, checkpoint: String) -> ValidationError {
    ValidationError(
        "cannot resume: \(flag) is \(given) here but \(stored) in \(checkpoint); drop \(flag) (resume reads it from the checkpoint) or choose another --out")
}
