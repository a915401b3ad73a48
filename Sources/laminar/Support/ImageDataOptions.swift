import ArgumentParser
import Foundation
import Laminar

/// Where the images come from (shared by `classify train` and `classify evaluate`). Each flag is
/// optional so that a command can tell a given value from the checkpoint's.
struct ImageDataOptions: ParsableArguments {
    @Option(help: "fashion-mnist (Debian's dataset-fashion-mnist), mnist (--data-dir or Datasets/mnist), or an MNIST-format directory (default fashion-mnist; on --resume and evaluate: the checkpoint's).")
    var data: String?

    @Option(name: .customLong("data-dir"), help: "Directory of the IDX files for --data mnist.")
    var dataDirectory: String?

    @Option(help: "Use only the first N training and test images (quick runs).")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1, got \(limit)") }
    }
}

/// One of the two splits of an image set (`--split`, `--images`).
enum ImageSplit: String, CaseIterable, ExpressibleByArgument {
    case test, train
}

extension ImageSplits {
    /// The images of `split`.
    subscript(split: ImageSplit) -> ImageDataset { split == .test ? test : train }
}

/// Which images a classifier was trained on, as its checkpoint records them (`data`, `data_dir`,
/// `limit`): evaluation reads the same set by default.
struct ImageDataSource: Equatable {
    /// `fashion-mnist`, `mnist` or a directory.
    var name: String
    /// The directory of the IDX files when given for a named set.
    var dataDirectory: String?
    /// Only the first `limit` images of each split.
    var limit: Int?

    /// The directory the images are read from.
    var directory: String { ImageData.directory(name, dataDirectory: dataDirectory) }

    /// Both splits.
    func load(quiet: Bool = false) throws -> ImageSplits {
        try ImageData.load(name, dataDirectory: dataDirectory, limit: limit, quiet: quiet)
    }

    /// The checkpoint metadata entries.
    var entries: [String: String] {
        var out = [RunCheckpointKey.data: name]
        if let dataDirectory { out["data_dir"] = dataDirectory }
        if let limit { out["limit"] = String(limit) }
        return out
    }

    /// The source a checkpoint records (checkpoints written before `data_dir` was stored hold the
    /// directory itself as `data`); nil when it records none.
    init?(metadata: [String: String]) {
        guard let name = metadata[RunCheckpointKey.data] else { return nil }
        (self.name, dataDirectory, limit) = (name, metadata["data_dir"], metadata["limit"].flatMap { Int($0) })
    }

    init(name: String, dataDirectory: String?, limit: Int?) {
        (self.name, self.dataDirectory, self.limit) = (name, dataDirectory, limit)
    }

    /// For messages: the name, with the directory when it says more.
    var described: String {
        let limited = limit.map { ", first \($0) images of each split" } ?? ""
        return (directory == name ? name : "\(name) (\(directory))") + limited
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

