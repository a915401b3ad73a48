import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar density`: the model's density on a grid as a colour-mapped picture.
    struct Density: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a trained 2-D model's density (exact trace), next to the data's true density where known; image models: test images ranked by likelihood and a bits/dim histogram.")

        @OptionGroup var model: FlowCheckpointOptions

        @Option(help: "Output PNG.")
        var out: String = "density.png"

        @Option(help: "Grid points per axis.")
        var resolution: Int = 100

        @Option(help: "Plot range [-r, r]².")
        var range: Double = 4

        @Option(help: "Image models: which images to rank (test or train).")
        var images: ImageSplit = .test

        @Option(help: "Image models: rank the first N images of the split.")
        var n: Int = 1_000

        @Option(help: "Image models: images per row and rows of each panel (most / least likely).")
        var columns: Int = 10

        @Option(help: "Image models: rows per panel.")
        var rows: Int = 2

        @OptionGroup var imageData: TrainedImagesOptions

        @OptionGroup var runtime: RuntimeOptions

        func validate() throws {
            guard resolution >= 8, resolution <= 1_000 else {
                throw ValidationError("--resolution must be in 8…1000, got \(resolution)")
            }
            guard range > 0 else { throw ValidationError("--range must be > 0") }
            guard n >= 2, columns >= 1, rows >= 1 else { throw ValidationError("--n must be ≥ 2 and --columns, --rows ≥ 1") }
            try requireWritableParent(of: out, flag: "--out")
        }

        func run() throws {
            runtime.apply()
            let (flow, spec, metadata) = try model.load()
            if let image = try ImageRunMetadata(metadata: metadata) {
                try rankImages(flow, image: image, dataName: metadata["data"] ?? "fashion-mnist")
                return
            }
            guard flow.dimension == 2 else { throw LaminarCLIError("density maps need a 2-D model") }
            let grid = try DensityGrid.evaluate(flow, low: -range, high: range, resolution: resolution)
            let toy = metadata["data"].flatMap(ToyDataset.init(rawValue:))
            try Pictures.writeDensity(grid, truth: toy, modelName: spec.name, path: out)
            note(String(format: "wrote %@ (mass on the grid %.4f, NFE %d)", out, grid.totalMass, grid.nfe))
        }
    
        /// The image models' density picture: the most and least likely images of a split, and a
        /// histogram of their bits/dim beside `--out` (`…-histogram.png`).
        private func rankImages(_ flow: AnyFlow<Float>, image: ImageRunMetadata, dataName: String) throws {
            SignalFlag.install()  // the evaluation below stops between batches
            noteOtherData(trainedOn: (dataName, image.dataDirectory), evaluatedOn: (dataName, imageData.directory(trainedIn: image)))
            let set = try imageData.load(images, of: dataName, for: image)
            let indices = Array(0..<min(n, set.count))
            let result = try Evaluation.imageBitsPerDimension(
                flow, data: set, indices: indices, preprocessing: image.preprocessing,
                progress: stageProgress("bits/dim of \(images) images", total: indices.count, unit: "images"))
            try ImagePictures.writeRanked(
                data: set, indices: indices, bitsPerDimension: result.perImage, rows: rows, perRow: columns, path: out)
            let url = URL(fileURLWithPath: out)
            let histogram = url.deletingPathExtension().path + "-histogram.png"
            try ImagePictures.writeHistogram(
                result.perImage, title: "bits/dim of \(indices.count) \(images) images", path: histogram)
            note(String(format: "wrote %@ and %@ (mean %.4f ± %.4f bits/dim, %@)", out, histogram, result.bitsPerDimension,
                        result.standardError, result.exactTrace ? "exact log-determinant" : "Hutchinson estimate"))
        }
    }
}
