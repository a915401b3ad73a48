import Foundation

/// Grey-scale images with labels in MNIST format (`[n, height, width]` bytes, labels 0–9).
public struct ImageDataset: Sendable {
    /// Pixels `[count, height, width]`, row-major, 0 (background) to 255.
    public var images: [UInt8]
    /// Class of each image, 0–9, `[count]`.
    public var labels: [UInt8]
    /// Number of images.
    public var count: Int
    /// Rows per image (28 for MNIST).
    public var height: Int
    /// Columns per image (28 for MNIST).
    public var width: Int

    /// A data set of `count` images of `height × width`; traps when the array sizes disagree.
    public init(images: [UInt8], labels: [UInt8], count: Int, height: Int, width: Int) {
        precondition(images.count == count * height * width && labels.count == count, "ImageDataset: inconsistent sizes")
        (self.images, self.labels, self.count, self.height, self.width) = (images, labels, count, height, width)
    }

    /// Pixels of one image.
    public var pixelsPerImage: Int { height * width }

    /// Images `range` as a new data set.
    public func subset(_ range: Range<Int>) -> ImageDataset {
        ImageDataset(
            images: Array(images[(range.lowerBound * pixelsPerImage)..<(range.upperBound * pixelsPerImage)]),
            labels: Array(labels[range]), count: range.count, height: height, width: width)
    }
}

/// Training and test images of an MNIST-format directory.
public struct ImageSplits: Sendable {
    /// The training split.
    public var train: ImageDataset
    /// The test split.
    public var test: ImageDataset
    /// How the split was made when the directory held only test files; nil otherwise.
    public var note: String?

    /// Two splits and, when the split was derived rather than read, how.
    public init(train: ImageDataset, test: ImageDataset, note: String? = nil) {
        (self.train, self.test, self.note) = (train, test, note)
    }
}

/// Loads MNIST-format directories: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally `.gz`.
public enum MNISTFormat {
    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// Reads both splits of `directory`. When only the `t10k-*` files are present (e.g. the
    /// 10,000 real MNIST test digits), the first 9,000 images become the training split and
    /// the last 1,000 the test split, and `note` says so.
    public static func load(directory: String) throws -> ImageSplits {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.fileNotFound(directory)
        }
        let test = try loadPair(directory: directory, prefix: "t10k")
        if (try? locate(directory: directory, name: "train-images-idx3-ubyte")) != nil {
            return ImageSplits(train: try loadPair(directory: directory, prefix: "train"), test: test, note: nil)
        }
        guard test.count >= 10 else {
            throw DataError.mismatch("\(directory): only \(test.count) test images and no training files; cannot split")
        }
        let cut = test.count - test.count / 10
        return ImageSplits(
            train: test.subset(0..<cut), test: test.subset(cut..<test.count),
            note: "\(directory) holds only t10k files: images 0..<\(cut) are used for training and \(cut)..<\(test.count) for testing")
    }

    /// Images and labels with the file prefix `train` or `t10k`, checked against each other.
    public static func loadPair(directory: String, prefix: String) throws -> ImageDataset {
        let imagesPath = try locate(directory: directory, name: "\(prefix)-images-idx3-ubyte")
        let labelsPath = try locate(directory: directory, name: "\(prefix)-labels-idx1-ubyte")
        let images = try IDXFile.read(path: imagesPath)
        let labels = try IDXFile.read(path: labelsPath)
        guard images.shape.count == 3 else {
            throw DataError.badIDX(path: imagesPath, reason: "images must have 3 dimensions [n, rows, columns], found \(images.shape)")
        }
        guard labels.shape.count == 1 else {
            throw DataError.badIDX(path: labelsPath, reason: "labels must have 1 dimension, found \(labels.shape)")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw DataError.mismatch("\(imagesPath) has \(images.shape[0]) images but \(labelsPath) has \(labels.shape[0]) labels")
        }
        if let bad = labels.bytes.firstIndex(where: { $0 > 9 }) {
            throw DataError.badIDX(path: labelsPath, reason: "label \(labels.bytes[bad]) at index \(bad) is outside 0–9")
        }
        return ImageDataset(
            images: images.bytes, labels: labels.bytes, count: images.shape[0], height: images.shape[1],
            width: images.shape[2])
    }

    /// `name` or `name.gz` in `directory`.
    static func locate(directory: String, name: String) throws -> String {
        for candidate in [name, name + ".gz"] {
            let path = (directory as NSString).appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw DataError.fileNotFound((directory as NSString).appendingPathComponent(name + "[.gz]"))
    }
}
