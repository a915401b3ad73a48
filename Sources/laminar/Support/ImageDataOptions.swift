import ArgumentParser
import Foundation
import Laminar

/// Where the images come from (shared by both subcommands).
struct ImageDataOptions: ParsableArguments {
    @Option(help: "fashion-mnist (Debian's dataset-fashion-mnist), mnist (--data-dir or Datasets/mnist), or an MNIST-format directory.")
    var data: String = "fashion-mnist"

    @Option(name: .customLong("data-dir"), help: "Directory of the IDX files for --data mnist.")
    var dataDirectory: String?

    @Option(help: "Use only the first N training and test images (quick runs).")
    var limit: Int?

    var directory: String { ImageData.directory(data, dataDirectory: dataDirectory) }

    func load() throws -> ImageSplits {
        try ImageData.load(data, dataDirectory: dataDirectory, limit: limit)
    }
}

/// Image data sets by name: `fashion-mnist`, `mnist` or an MNIST-format directory.
enum ImageData {
    /// The directory `name` refers to.
    static func directory(_ name: String, dataDirectory: String?) -> String {
        switch name {
        case "fashion-mnist": return dataDirectory ?? MNISTFormat.fashionMNISTDirectory
        case "mnist": return dataDirectory ?? "Datasets/mnist"
        default: return name
        }
    }

    /// Whether `--data name` means images (a named image set or an existing directory).
    static func isImageData(_ name: String) -> Bool {
        if name == "fashion-mnist" || name == "mnist" { return true }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Both splits, the first `limit` images of each when given; says how a t10k-only
    /// directory was split.
    static func load(_ name: String, dataDirectory: String?, limit: Int?, quiet: Bool = false) throws -> ImageSplits {
        let directory = directory(name, dataDirectory: dataDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            let hint = name == "fashion-mnist"
                ? " (apt-get install dataset-fashion-mnist)" : name == "mnist" ? " (see Datasets/README.md)" : ""
            throw LaminarCLIError("--data \(name): no directory \(directory)\(hint)")
        }
        let splits = try MNISTFormat.load(directory: directory)
        if let message = splits.note, !quiet { note(message) }
        guard let limit else { return splits }
        return ImageSplits(
            train: splits.train.subset(0..<min(limit, splits.train.count)),
            test: splits.test.subset(0..<min(limit, splits.test.count)), note: splits.note)
    }
}

