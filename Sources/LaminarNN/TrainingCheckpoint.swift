import Foundation

/// Checkpoints of a training run with Adam: parameters, optimizer state (under `optimizer.`),
/// the run's metadata and the iteration reached. Shared by the classifier and latent-model
/// trainers.
public enum TrainingCheckpoint {
    /// Writes the run's state atomically.
    public static func save<S>(
        to url: URL, parameters: [(String, Variable<S>)], optimizer: Adam<S>, metadata: [String: String], iteration: Int
    ) throws {
        var meta = metadata
        meta["iteration"] = String(iteration)
        try Checkpoint<S>.save(parameters: parameters, optimizerState: optimizer.state(prefix: "optimizer."), metadata: meta, to: url)
    }

    /// Restores parameters and optimizer state and returns the stored iteration. Every key of
    /// `metadata` that the checkpoint also holds must match; `mismatch(message)` makes the error
    /// thrown otherwise (the message names the file and the key).
    public static func resume<S>(
        from url: URL, parameters: [(String, Variable<S>)], optimizer: Adam<S>, metadata: [String: String],
        mismatch: (String) -> Error
    ) throws -> Int {
        let checkpoint = try Checkpoint<S>.load(from: url)
        for key in metadata.keys.sorted() {
            if let stored = checkpoint.metadata[key], stored != metadata[key] {
                throw mismatch("\(url.path) was written with a different \(key); use the same settings or another --out")
            }
        }
        try checkpoint.restore(parameters: parameters)
        try optimizer.load(state: checkpoint.optimizerState(prefix: "optimizer."))
        return Int(checkpoint.metadata["iteration"] ?? "") ?? 0
    }
}
