import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar score`: sample quality of an image model as numbers.
    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fréchet distance between samples and real images in the feature space of a classifier trained by laminar classify train, and the label histogram of the samples.",
            discussion: """
                Example: laminar score --checkpoint runs/fm/checkpoint.safetensors --n 2000 \\
                --reference fashion-mnist --classifier runs/resnet/checkpoint.safetensors
                The distance is d² (as FID): 0 for identical feature statistics.
                """)

        @Option(help: "Samples as .npy/.csv rows of pixel intensities in [0, 1] (laminar sample --format npy on an image model).")
        var samples: String?

        @Option(help: "Or an image-model checkpoint to draw --n samples from.")
        var checkpoint: String?

        @Option(help: "Samples drawn from --checkpoint.")
        var n: Int = 1_000

        /// The scale of the base samples drawn from `--checkpoint`.
        @OptionGroup var sampling: TemperatureOptions

        @Option(help: "Reference images: fashion-mnist, mnist (with --data-dir) or an MNIST-format directory.")
        var reference: String

        @Option(name: .customLong("data-dir"), help: "Directory of the IDX files for --reference mnist or fashion-mnist.")
        var dataDirectory: String?

        @Option(help: "Reference split: test or train.")
        var split: ImageSplit = .test

        @Option(name: .customLong("reference-count"), help: "Reference images used (the first N of the split).")
        var referenceCount: Int = 10_000

        @Option(help: "Classifier checkpoint written by laminar classify train (its penultimate layer is the feature space).")
        var classifier: String

        @Option(help: "Also write the result as JSON to this file.")
        var json: String?

        /// `--seed` (of the base samples) and `--threads`.
        @OptionGroup var runtime: RuntimeOptions

        var seed: UInt64 { runtime.seed(default: 0) }

        func validate() throws {
            guard (samples == nil) != (checkpoint == nil) else {
                throw ValidationError("give exactly one of --samples and --checkpoint")
            }
            for (flag, path) in [("--samples", samples), ("--checkpoint", checkpoint), ("--classifier", Optional(classifier))] {
                if let path, !FileManager.default.fileExists(atPath: path) { throw ValidationError("\(flag): no file at \(path)") }
            }
            guard n >= 2 else { throw ValidationError("--n must be ≥ 2, got \(n)") }
            guard referenceCount >= 2 else { throw ValidationError("--reference-count must be ≥ 2, got \(referenceCount)") }
            if let json { try requireWritableParent(of: json, flag: "--json") }
        }

        func run() throws {
            runtime.apply()
            let net = try ClassifierStore.load(from: URL(fileURLWithPath: classifier))
            let splits = try ImageData.load(reference, dataDirectory: dataDirectory, limit: nil, quiet: true)
            let set = splits[split]
            let count = min(referenceCount, set.count)
            let (referenceImages, _): (Tensor<Float>, [Int]) = imageBatch(set, indices: Array(0..<count))
            let pixels = set.pixelsPerImage
            let sampleImages = try loadSamples(height: set.height, width: set.width)
            guard sampleImages.shape[1] == pixels else {
                throw LaminarCLIError("the samples have \(sampleImages.shape[1]) pixels per row, the \(reference) images \(pixels) (\(set.height)×\(set.width))")
            }
            let quality = try SampleQuality.score(
                samples: sampleImages, reference: referenceImages.reshaped([count, pixels]), height: set.height,
                width: set.width, classifier: net)
            print(String(format: "Fréchet distance: %.4f (%d samples against %d %@ images of %@)",
                         quality.frechetDistance, quality.samples, quality.referenceImages, split.rawValue, reference))
            print("labels: " + quality.labelHistogram.enumerated().map { String(format: "%d:%.3f", $0.offset, $0.element) }.joined(separator: " ")
                  + " (\(quality.coveredClasses) classes ≥ 1 %)")
            if let json {
                try writeJSON(quality, to: URL(fileURLWithPath: json))
                note("wrote \(json)")
            }
        }

        /// The samples as [n, pixels] intensities in [0, 1].
        private func loadSamples(height: Int, width: Int) throws -> Tensor<Float> {
            if let samples {
                let points = try PointsFile.load(path: samples)
                guard points.rank == 2, points.scalars.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                    throw LaminarCLIError("\(samples): expected rows of pixel intensities in [0, 1] (laminar sample --format npy on an image model)")
                }
                return Tensor<Float>(points)
            }
            let (flow, _, metadata) = try ModelStore.load(from: URL(fileURLWithPath: checkpoint!))
            guard let image = try ImageRunMetadata(metadata: metadata) else {
                throw LaminarCLIError("\(checkpoint!) is not an image model; score needs images")
            }
            guard image.height == height, image.width == width else {
                throw LaminarCLIError("\(checkpoint!) models \(image.height)×\(image.width) images, the \(reference) images are \(height)×\(width)")
            }
            var rng = RandomGenerator(seed: seed)
            var rows: [Double] = []
            var nfe = 0
            var done = 0
            while done < n {
                let m = min(100, n - done)
                let (x, used) = try flow.sampleTransport(sampling.baseSamples(m, dimension: flow.dimension, using: &rng))
                rows += image.preprocessing.pixels(x)
                nfe += used
                done += m
            }
            note("drew \(n) samples from \(checkpoint!) (NFE \(nfe / ((n + 99) / 100)) per batch of 100)")
            return Tensor<Float>(shape: [n, flow.dimension], scalars: rows.map { Float(min(max($0, 0), 1)) })
        }
    }
}
