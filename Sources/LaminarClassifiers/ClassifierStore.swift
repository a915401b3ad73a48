import Foundation
import LaminarNN

/// Loads classifiers from checkpoints written by `laminar classify train`.
public enum ClassifierStore {
    /// The classifier of `url` with its parameters restored.
    public static func load(from url: URL) throws -> ImageClassifier<Float> {
        let stored = try Checkpoint<Float>.load(from: url)
        guard stored.metadata["model"] == "classifier", let json = stored.metadata["configuration"] else {
            throw ClassifierError.invalidConfiguration("\(url.path) is not a classifier checkpoint written by laminar classify train")
        }
        let configuration: ClassifierConfiguration
        do {
            configuration = try JSONDecoder().decode(ClassifierConfiguration.self, from: Data(json.utf8))
        } catch {
            throw ClassifierError.invalidConfiguration("\(url.path): the classifier configuration does not parse: \(error)")
        }
        var rng = RandomGenerator(seed: 0)
        let net = try ImageClassifier<Float>(configuration, using: &rng)
        try stored.restore(parameters: net.namedParameters)
        return net
    }
}
