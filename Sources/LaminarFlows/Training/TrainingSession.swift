import Foundation
import LaminarDistributed
import LaminarNN
import LaminarTraining

/// A model and its trainer for a run directory: a fresh model, or (with `resume`) the model of
/// the directory's checkpoint, checked against the requested settings. `objective` defaults to maximum likelihood; the
/// metadata key `objective` records it (`likelihood`, or the flow-matching settings as JSON). Data parallel: rank 0
/// looks at the directory and decides for every rank.
public final class TrainingSession {
    /// The model's settings.
    public let spec: ModelSpec
    /// The model, fresh or restored.
    public let flow: AnyFlow<Float>
    /// Its trainer, positioned at the checkpoint's iteration when resumed.
    public let trainer: FlowTrainer<AnyFlow<Float>>

    /// A fresh run in `directory` (refused when it already holds one), or with `resume` the
    /// run of its checkpoint (refused when the checkpoint was written for other settings).
    public init(
        spec: ModelSpec, options: TrainingOptions, source: BatchSource<Float>, dataName: String, directory: URL,
        resume: Bool, extraMetadata: [String: String] = [:], objective: (any TrainingObjective<Float>)? = nil,
        parallel: DataParallel<Float> = DataParallel()
    ) throws {
        self.spec = spec
        var rng = RandomGenerator(seed: options.seed)
        flow = try spec.build(using: &rng)
        var metadata = ["model": spec.name, "configuration": try spec.jsonString(), "data": dataName]
        metadata.merge(extraMetadata) { current, _ in current }
        let checkpointURL = directory.appendingPathComponent("checkpoint.safetensors")
        if resume, let stored = try? Checkpoint<Float>.load(from: checkpointURL),
           let name = stored.metadata["model"], let json = stored.metadata["configuration"],
           (try? ModelSpec(name: name, json: json)) == spec {
            // The same configuration, written before fields with defaults were added: keep its text.
            metadata["configuration"] = json
        }
        metadata["objective"] = try (objective as? FlowMatching<Float>)?.configuration.jsonString() ?? "likelihood"
        trainer = try FlowTrainer(
            flow: flow, options: options, source: source, directory: directory, metadata: metadata, objective: objective,
            parallel: parallel)
        try trainer.run.start(resume: resume)
    }
}

extension FFJORDConfiguration {
    /// Compact JSON (sorted keys) for checkpoint metadata.
    public func jsonString() throws -> String { try ModelSpec.ffjord(self).jsonString() }
}

/// Loads trained models from checkpoints written by `laminar train`.
public enum ModelStore {
    /// The model of `url` with its parameters restored, its settings and the checkpoint metadata.
    public static func load(from url: URL) throws -> (flow: AnyFlow<Float>, spec: ModelSpec, metadata: [String: String]) {
        let checkpoint = try Checkpoint<Float>.load(from: url)
        let (flow, spec) = try model(of: checkpoint, path: url.path)
        return (flow, spec, checkpoint.metadata)
    }

    /// Rebuilds the model a checkpoint describes and restores its parameters. The settings are
    /// checked against the stored tensors before anything is allocated, so a corrupt or hostile
    /// configuration cannot ask for more memory than the file itself holds.
    public static func model(of checkpoint: Checkpoint<Float>, path: String) throws -> (AnyFlow<Float>, ModelSpec) {
        guard let name = checkpoint.metadata["model"], let json = checkpoint.metadata["configuration"] else {
            throw FlowError.invalidConfiguration(
                "\(path) is not a model checkpoint written by laminar train (metadata 'model'/'configuration' missing)")
        }
        let spec = try ModelSpec(name: name, json: json)
        try spec.validate()
        let stored = checkpoint.tensors.filter { !$0.key.hasPrefix("optimizer.") }.reduce(0) { $0 + $1.value.count }
        guard spec.minimumParameterCount <= stored else {
            throw FlowError.invalidConfiguration(
                "\(path): the \(name) configuration needs at least \(spec.minimumParameterCount) parameters but the file stores \(stored)")
        }
        var rng = RandomGenerator(seed: 0)
        let flow: AnyFlow<Float> = try spec.build(using: &rng)
        try checkpoint.restore(parameters: flow.namedParameters)
        return (flow, spec)
    }
}
