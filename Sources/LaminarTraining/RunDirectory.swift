import Foundation
import LaminarNN

/// The files of one training run, the same for every model:
///
/// - `checkpoint.safetensors`: parameters, optimizer state (`optimizer.*`) and metadata — the
///   model (`model`, `configuration`), the data it was trained on (`data`, and what the model
///   adds, e.g. `preprocessing`), the training options (`training`) and the counters of the
///   run (`iteration`, `lr_scale`, `seed`, `elapsed_seconds`); see ``RunCheckpointKey``;
/// - `metrics.jsonl`: one record per iteration (``MetricsLog``);
/// - `summary.json`: what the run measured, written at its end (``writeSummary(_:)``).
///
/// Every file is replaced atomically (`AtomicFile`): a kill leaves the old file or the new one.
public struct RunDirectory: Sendable, Equatable {
    /// The directory (`--out`).
    public let url: URL

    /// The run directory at `url`.
    public init(_ url: URL) { self.url = url }

    /// `checkpoint.safetensors`.
    public var checkpointURL: URL { url.appendingPathComponent("checkpoint.safetensors") }
    /// `metrics.jsonl`.
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    /// `summary.json`.
    public var summaryURL: URL { url.appendingPathComponent("summary.json") }

    /// Whether the directory holds a checkpoint.
    public var hasCheckpoint: Bool { FileManager.default.fileExists(atPath: checkpointURL.path) }

    /// Creates the directory (and its parents) when missing.
    public func create() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Removes the temporary files of checkpoint writes that a killed process left behind.
    public func removeStaleTemporaryFiles() {
        let prefix = ".\(checkpointURL.lastPathComponent).tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
    }

    /// Writes `summary` as `summary.json` (pretty-printed, keys sorted), atomically.
    public func writeSummary<Summary: Encodable>(_ summary: Summary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(summary)), to: summaryURL)
    }

    /// The metadata of the directory's checkpoint (without loading its tensors' values into a model).
    public func checkpointMetadata() throws -> [String: String] {
        try Checkpoint<Float>.load(from: checkpointURL).metadata
    }
}

/// The metadata keys a run checkpoint holds besides the model's own.
public enum RunCheckpointKey {
    /// The model's name (`ffjord`, `classifier`, `latent`, …).
    public static let model = "model"
    /// The model's configuration (JSON).
    public static let configuration = "configuration"
    /// The data the model was trained on: a name, a path or a JSON description.
    public static let data = "data"
    /// ``TrainingOptions`` as JSON.
    public static let training = "training"
    /// Iterations completed.
    public static let iteration = "iteration"
    /// The learning-rate factor left by divergence halvings.
    public static let learningRateScale = "lr_scale"
    /// The run's seed.
    public static let seed = "seed"
    /// Wall-clock seconds of training so far, across resumes.
    public static let elapsedSeconds = "elapsed_seconds"

    /// Keys written by the loop itself; a resumed run may change them.
    public static let counters: Set<String> = [training, iteration, learningRateScale, seed, elapsedSeconds]
}

/// Compact JSON (keys sorted) of `value`, for checkpoint metadata.
public func compactJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
