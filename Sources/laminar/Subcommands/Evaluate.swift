import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar evaluate`: test negative log-likelihood with the exact trace.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report the negative log-likelihood (nats) of a trained model on fresh test data, exact trace; bits/dim for image models.")

        @OptionGroup var model: FlowCheckpointOptions

        @Option(help: "Data to evaluate on (default: the data the model was trained on: toy sets draw fresh samples, a points file its held-out --test-fraction rows, images the --split).")
        var data: String?

        @Option(help: "Number of fresh test samples for toy data (default 5000); images: evaluate the first N images of the split (default all).")
        var n: Int?

        @Option(help: "Images: test or train.")
        var split: ImageSplit = .test

        @OptionGroup var imageData: TrainedImagesOptions

        @Option(help: "Images: dequantization (and, for CNFs, Hutchinson) draws per image.")
        var draws: Int = 1

        @OptionGroup var runtime: RuntimeOptions

        func validate() throws {
            if let n, n < 1 { throw ValidationError("--n must be ≥ 1, got \(n)") }
            guard draws >= 1 else { throw ValidationError("--draws must be ≥ 1, got \(draws)") }
        }

        func run() throws {
            runtime.apply()
            let (flow, _, metadata) = try model.load()
            let trainedOn = metadata["data"] ?? "checkerboard"
            let dataName = data ?? trainedOn
            noteOtherData(trainedOn: (trainedOn, metadata["data_dir"]), evaluatedOn: (dataName, imageData.dataDirectory ?? metadata["data_dir"]))
            if let image = try ImageRunMetadata(metadata: metadata) {
                try evaluateImages(flow, image: image, dataName: dataName)
                return
            }
            let seed = runtime.seed(default: 12_345)
            let points: Tensor<Float>
            let described: String
            if let toy = ToyDataset(rawValue: dataName) {
                var rng = RandomGenerator(seed: seed)
                points = toy.sample(n ?? 5_000, using: &rng)
                described = "fresh samples of \(dataName), seed \(seed)"
            } else {
                let all = Tensor<Float>(try PointsFile.load(path: dataName))
                if dataName == trainedOn, let fraction = metadata["test_fraction"].flatMap(Double.init), fraction > 0 {
                    // The rows training held out: the same split as `train` made (its seed).
                    let runSeed = metadata["seed"].flatMap { UInt64($0) } ?? 0
                    points = HeldOutSplit(testFraction: fraction, seed: runSeed).split(all).test
                    described = "held-out test split of \(dataName): \(String(format: "%g", 100 * fraction)) % of its rows, unseen in training"
                } else {
                    points = all
                    described = dataName == trainedOn
                        ? "all rows of \(dataName), the training data (the run held none out)"
                        : "all rows of \(dataName)"
                }
                guard points.shape[0] > 0 else { throw LaminarCLIError("\(dataName): no rows to evaluate") }
            }
            guard points.shape[1] == flow.dimension else {
                throw LaminarCLIError("--data has \(points.shape[1]) columns but the model expects \(flow.dimension)")
            }
            let start = Date()
            let result = try Evaluation.negativeLogLikelihood(flow, points: points)
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "NLL: %.4f nats", result.nll))
            print(String(format: "standard error: %.4f", result.standardError))
            print("points: \(points.shape[0]) (\(described))")
            print("NFE: \(result.nfe)")
            print(String(format: "time: %.2f s", seconds))
        }

        /// `bits/dim: v ± stderr` on a split of the image data the model was trained on.
        private func evaluateImages(_ flow: AnyFlow<Float>, image: ImageRunMetadata, dataName: String) throws {
            SignalFlag.install()  // the evaluation below stops between batches
            let set = try imageData.load(split, of: dataName, for: image)
            let count = min(n ?? set.count, set.count)
            let start = Date()
            let result = try Evaluation.imageBitsPerDimension(
                flow, data: set, indices: Array(0..<count), preprocessing: image.preprocessing, draws: draws,
                seed: runtime.seed(default: 12_345),
                progress: stageProgress("bits/dim of the \(split) split", total: count, unit: "images"))
            print(String(format: "bits/dim: %.4f ± %.4f", result.bitsPerDimension, result.standardError))
            print("images: \(count) (\(split) split of \(dataName)), \(draws) dequantization draw\(draws == 1 ? "" : "s") each")
            if result.exactTrace {
                print("log-determinant: exact")
            } else {
                print("log-determinant: Hutchinson estimate (Rademacher, fresh noise per draw; the exact trace needs \(flow.dimension) vector-Jacobian products per function evaluation); ± includes its noise")
            }
            print("NFE: \(result.nfe)")
            print(String(format: "time: %.2f s", Date().timeIntervalSince(start)))
        }
    }
}
