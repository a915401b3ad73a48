import Foundation
import LaminarNN

/// A model and its trainer for a run directory: a fresh model, or (with `resume`) the model of
/// the directory's checkpoint, checked against the requested configuration.
public final class TrainingSession {
    public let flow: FFJORD<Float>
    public let trainer: FlowTrainer<FFJORD<Float>>

    public init(
        configuration: FFJORDConfiguration, options: TrainingOptions, source: BatchSource<Float>,
        dataName: String, directory: URL, resume: Bool
    ) throws {
        var rng = RandomGenerator(seed: options.seed)
        flow = try FFJORD<Float>(configuration, using: &rng)
        let metadata = [
            "model": "ffjord",
            "configuration": try configuration.jsonString(),
            "data": dataName,
        ]
        trainer = try FlowTrainer(
            flow: flow, options: options, source: source, directory: directory, metadata: metadata)
        let exists = FileManager.default.fileExists(atPath: trainer.checkpointURL.path)
        if resume {
            guard exists else {
                throw TrainingError.resumeMismatch("no checkpoint at \(trainer.checkpointURL.path) to resume from")
            }
            try trainer.resume()
        } else if exists {
            throw TrainingError.resumeMismatch(
                "\(directory.path) already holds a run; pass --resume to continue it or choose another --out")
        }
    }
}

extension FFJORDConfiguration {
    /// Compact JSON (sorted keys) for checkpoint metadata.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Parses the JSON written by ``jsonString()``.
    public init(json: String) throws {
        self = try JSONDecoder().decode(FFJORDConfiguration.self, from: Data(json.utf8))
    }
}

/// Loads a trained model from a checkpoint written by `laminar train`.
public enum ModelStore {
    /// The FFJORD model of `url`, with its parameters restored.
    public static func loadFFJORD(from url: URL) throws -> (flow: FFJORD<Float>, metadata: [String: String]) {
        let checkpoint = try Checkpoint<Float>.load(from: url)
        guard checkpoint.metadata["model"] == "ffjord", let json = checkpoint.metadata["configuration"] else {
            throw FlowError.invalidConfiguration(
                "\(url.path) is not an FFJORD checkpoint written by laminar train (metadata 'model'/'configuration' missing)")
        }
        let configuration = try FFJORDConfiguration(json: json)
        var rng = RandomGenerator(seed: 0)
        let flow = try FFJORD<Float>(configuration, using: &rng)
        try checkpoint.restore(parameters: flow.namedParameters)
        return (flow, checkpoint.metadata)
    }
}
