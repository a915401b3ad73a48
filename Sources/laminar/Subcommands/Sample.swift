import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar sample`: draw from a trained model.
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw samples from a trained model: a 2-D histogram PNG (image models: a grid of images), or the points as .npy/.csv.")

        @Option(help: "Checkpoint written by laminar train.")
        var checkpoint: String

        @Option(help: "Number of samples.")
        var n: Int = 10_000

        @Option(help: "Output file (.png, .npy or .csv; see --format).")
        var out: String = "samples.png"

        @Option(help: "png, npy or csv (default: from the --out extension).")
        var format: String?

        @Option(help: "Also write the flow from base to data as PNG frames into this directory.")
        var trajectory: String?

        @Option(help: "Frames of the trajectory.")
        var frames: Int = 20

        @Option(help: "Scale of the base samples (1 = the model).")
        var temperature: Double = 1

        @Option(help: "Seed.")
        var seed: UInt64 = 0

        @Option(help: "Plot range [-r, r]² of the PNG.")
        var range: Double = 4

        func validate() throws {
            guard n >= 1 else { throw ValidationError("--n must be ≥ 1, got \(n)") }
            guard temperature > 0, temperature <= 10 else {
                throw ValidationError("--temperature must be in (0, 10], got \(temperature)")
            }
            guard frames >= 1 else { throw ValidationError("--frames must be ≥ 1") }
            guard ["png", "npy", "csv"].contains(resolvedFormat) else {
                throw ValidationError("--format must be png, npy or csv, got '\(resolvedFormat)'")
            }
            guard FileManager.default.fileExists(atPath: checkpoint) else {
                throw ValidationError("--checkpoint: no file at \(checkpoint)")
            }
            try requireWritableParent(of: out, flag: "--out")
        }

        var resolvedFormat: String {
            format ?? (URL(fileURLWithPath: out).pathExtension.isEmpty ? "png" : URL(fileURLWithPath: out).pathExtension.lowercased())
        }

        func run() throws {
            let (flow, _, metadata) = try ModelStore.load(from: URL(fileURLWithPath: checkpoint))
            if let image = try ImageRunMetadata(metadata: metadata) {
                try sampleImages(flow, image: image)
                return
            }
            var rng = RandomGenerator(seed: seed)
            var z = Tensor<Float>.randomNormal([n, flow.dimension], using: &rng)
            if temperature != 1 { z = z * Float(temperature) }
            let (x, nfe) = try flow.sampleTransport(z)
            switch resolvedFormat {
            case "npy": try PointsFile.write(Tensor<Double>(x), path: out, format: .npy)
            case "csv": try PointsFile.write(Tensor<Double>(x), path: out, format: .csv)
            default:
                guard flow.dimension == 2 else {
                    throw LaminarCLIError("PNG output needs 2-D data; use --format npy or csv for \(flow.dimension)-D samples")
                }
                try Pictures.writeSamples(x, range: range, path: out)
            }
            note("wrote \(n) samples to \(out) (NFE \(nfe))")
            if let trajectory {
                guard flow.dimension == 2 else { throw LaminarCLIError("--trajectory needs 2-D data") }
                guard let ffjord = flow.base as? FFJORD<Float> else {
                    throw LaminarCLIError("--trajectory needs a continuous-time FFJORD model; this checkpoint holds a \(type(of: flow.base))")
                }
                let snapshots = try ffjord.trajectory(z.slice(axis: 0, 0..<Swift.min(n, 5_000)), frames: frames)
                let written = try Pictures.writeTrajectory(snapshots, range: range, directory: trajectory)
                note("wrote \(written) frames to \(trajectory)/")
            }
        }
    
        /// Image models: a grid PNG of `n` samples, or their pixel intensities in [0, 1] as rows.
        private func sampleImages(_ flow: AnyFlow<Float>, image: ImageRunMetadata) throws {
            guard trajectory == nil else { throw LaminarCLIError("--trajectory is for 2-D models") }
            if resolvedFormat == "png" {
                let nfe = try ImagePictures.writeSampleGrid(
                    flow: flow, preprocessing: image.preprocessing, height: image.height, width: image.width, count: n,
                    temperature: temperature, seed: seed, path: out)
                note("wrote a grid of \(n) samples (temperature \(temperature)) to \(out) (NFE \(nfe))")
                return
            }
            var rng = RandomGenerator(seed: seed)
            var z = Tensor<Float>.randomNormal([n, flow.dimension], using: &rng)
            if temperature != 1 { z = z * Float(temperature) }
            let (x, nfe) = try flow.sampleTransport(z)
            let pixels = Tensor<Double>(shape: [n, flow.dimension], scalars: image.preprocessing.pixels(x))
            try PointsFile.write(pixels, path: out, format: resolvedFormat == "npy" ? .npy : .csv)
            note("wrote \(n) samples (pixel intensities in [0, 1]) to \(out) (NFE \(nfe))")
        }
    }
}
