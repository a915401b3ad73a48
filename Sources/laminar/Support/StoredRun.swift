import ArgumentParser
import Foundation
import Laminar

/// What a run directory's checkpoint says about its run, for `laminar train --resume`: the
/// model configuration, the data and the training settings that must not change. Flags given
/// again on resume are checked against it; flags left out are read from it.
struct StoredRun {
    let checkpointPath: String
    let spec: ModelSpec
    let metadata: [String: String]

    init(directory: URL) throws {
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        checkpointPath = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw LaminarCLIError("cannot resume: no checkpoint at \(url.path) (drop --resume to start a run there)")
        }
        let checkpoint = try Checkpoint<Float>.load(from: url)
        metadata = checkpoint.metadata
        guard let name = metadata["model"], let json = metadata["configuration"] else {
            throw LaminarCLIError("cannot resume: \(url.path) was not written by laminar train")
        }
        guard ModelSpec.names.contains(name) else {
            let hint = name == "classifier" ? " (use laminar classify train --resume)"
                : name == "latent" ? " (use laminar latent train --resume)" : ""
            throw LaminarCLIError("cannot resume: \(url.path) holds a '\(name)' model\(hint)")
        }
        spec = try ModelSpec(name: name, json: json)
    }

    /// The training options the run was started with (checkpoints written since they are stored).
    var training: TrainingOptions? {
        metadata["training"].flatMap { try? JSONDecoder().decode(TrainingOptions.self, from: Data($0.utf8)) }
    }

    /// The data name (`--data`).
    var data: String? { metadata["data"] }

    /// The seed of the run (`--seed`).
    var seed: UInt64? { training?.seed ?? metadata["seed"].flatMap { UInt64($0) } }

    /// A usage error naming a flag whose value disagrees with the checkpoint.
    func conflict(_ flag: String, stored: String, given: String) -> ValidationError {
        resumeConflict(flag, stored: stored, given: given, checkpoint: checkpointPath)
    }

    /// Throws when a flag given on the command line disagrees with the stored value.
    func check(_ flag: String, given: String?, stored: String?) throws {
        guard let given, let stored, given != stored else { return }
        throw conflict(flag, stored: stored, given: given)
    }

    /// Checks the model flags given again against the stored configuration.
    func check(model options: ModelOptions, image: (Int, Int, Int)?) throws {
        let flags = options.givenFlags
        guard !flags.isEmpty else { return }
        var options = options
        if options.model == nil {
            // The other flags are read as flags of the stored model (`--depth` of a planar flow).
            switch spec {
            case .ffjord where image != nil: options.model = "ffjord-mlp"
            case .imageRealNVP: options.model = "realnvp"
            case .unetCNF: options.model = "unet"
            default: options.model = spec.name
            }
        }
        let given = try options.spec(dimension: spec.dimension, image: image)
        // `ffjord`/`realnvp` name the image architectures on image data, `ffjord-mlp` is stored as ffjord.
        if flags.contains("--model"), given.name != spec.name {
            throw conflict("--model", stored: spec.name, given: options.modelName)
        }
        for flag in flags where flag != "--model" {
            try check(flag, given: given.value(ofFlag: flag), stored: spec.value(ofFlag: flag))
        }
    }
}
