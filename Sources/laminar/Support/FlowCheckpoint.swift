import ArgumentParser
import Foundation
import Laminar

/// `--checkpoint` of the commands that read a model written by `laminar train` (`evaluate`,
/// `sample`, `density`).
struct FlowCheckpointOptions: ParsableArguments {
    @Option(help: "Checkpoint written by laminar train.")
    var checkpoint: String

    /// The checkpoint's model, its configuration and metadata; see ``loadFlowCheckpoint(_:)``.
    func load() throws -> (flow: AnyFlow<Float>, spec: ModelSpec, metadata: [String: String]) {
        try loadFlowCheckpoint(checkpoint)
    }
}

/// `--data-dir` of the commands that read the images an image model was trained on
/// (`evaluate`, `density`), and the loading of a split of them.
struct TrainedImagesOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Images: directory of the IDX files (default: the one used in training).")
    var dataDirectory: String?

    /// The directory the images are read from: `--data-dir`, else the training run's.
    func directory(trainedIn image: ImageRunMetadata) -> String? { dataDirectory ?? image.dataDirectory }

    /// `split` of the image set `dataName` (as limited in training), which must hold images of
    /// the model's size.
    func load(_ split: ImageSplit, of dataName: String, for image: ImageRunMetadata) throws -> ImageDataset {
        let set = try ImageData.load(dataName, dataDirectory: directory(trainedIn: image), limit: image.limit)[split]
        guard set.height == image.height, set.width == image.width else {
            throw LaminarCLIError("--data \(dataName) holds \(set.height)×\(set.width) images but the model was trained on \(image.height)×\(image.width)")
        }
        return set
    }
}

/// Loads the model of a checkpoint written by `laminar train`, for `evaluate`, `sample` and
/// `density`. A missing file is a runtime error (exit 1); a checkpoint of another command's
/// model says which command reads it.
func loadFlowCheckpoint(_ path: String) throws -> (flow: AnyFlow<Float>, spec: ModelSpec, metadata: [String: String]) {
    guard FileManager.default.fileExists(atPath: path) else {
        throw LaminarCLIError("--checkpoint \(path): no such file")
    }
    let checkpoint = try Checkpoint<Float>.load(from: URL(fileURLWithPath: path))
    switch checkpoint.metadata["model"] {
    case "latent":
        throw LaminarCLIError("\(path) holds a latent time-series model; use laminar latent evaluate (or latent plot) --checkpoint \(path)")
    case "classifier":
        throw LaminarCLIError("\(path) holds an image classifier; use laminar classify evaluate --checkpoint \(path)")
    default:
        let (flow, spec) = try ModelStore.model(of: checkpoint, path: path)
        return (flow, spec, checkpoint.metadata)
    }
}

/// One line on standard error when a model is evaluated on other data than it was trained on
/// (`name` and `--data-dir` of each; nothing when they agree).
func noteOtherData(trainedOn: (name: String, directory: String?), evaluatedOn: (name: String, directory: String?)) {
    func described(_ d: (name: String, directory: String?)) -> String { d.directory.map { "\(d.name) (\($0))" } ?? d.name }
    guard trainedOn.name != evaluatedOn.name || trainedOn.directory != evaluatedOn.directory else { return }
    note("the model was trained on \(described(trainedOn)) and is being evaluated on \(described(evaluatedOn))")
}
