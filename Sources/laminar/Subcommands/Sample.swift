import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar sample`: draw from a trained model.
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw samples from a trained model: a 2-D histogram PNG (image models: a grid of images), or the points as .npy/.csv.")

        @OptionGroup var model: FlowCheckpointOptions

        @Option(help: "Number of samples.")
        var n: Int = 10_000

        @Option(help: "Output file (.png, .npy or .csv; see --format). Default samples.png, or none when only --trajectory is asked for.")
        var out: String?

        @Option(help: "png, npy or csv (default: from the --out extension).")
        var format: String?

        @Option(help: "Write the flow from base to data as PNG frames (frame-000.png, …) into this directory.")
        var trajectory: String?

        @Option(help: "Frames of the trajectory.")
        var frames: Int = 20

        @OptionGroup var sampling: TemperatureOptions

        @OptionGroup var runtime: RuntimeOptions

        @Option(help: "Plot range [-r, r]² of the PNG.")
        var range: Double = 4

        /// CNFs: the solver for sampling (adaptive with `--rtol`/`--atol`, or fixed-step with
        /// `--steps`); the model's own when not given.
        @OptionGroup var solve: SolverMethodOptions

        @Option(help: "CNFs: steps per CNF block of a fixed-step --solver (euler, midpoint, rk4).")
        var steps: Int?

        func validate() throws {
            if solve.solver == nil {
                guard steps == nil, solve.rtol == nil, solve.atol == nil else {
                    throw ValidationError("--steps, --rtol and --atol choose how --solver integrates; add --solver (e.g. --solver euler --steps 20)")
                }
            }
            if let samplingSolver {
                do { try samplingSolver.validate() } catch let error as FlowError {
                    throw ValidationError(error.description.replacingOccurrences(of: "invalid model configuration: ", with: ""))
                }
            }
            guard n >= 1 else { throw ValidationError("--n must be ≥ 1, got \(n)") }
            guard frames >= 1 else { throw ValidationError("--frames must be ≥ 1") }
            guard ["png", "npy", "csv"].contains(resolvedFormat) else {
                throw ValidationError("--format must be png, npy or csv, got '\(resolvedFormat)'")
            }
            if let outPath { try requireWritableParent(of: outPath, flag: "--out") }
            if let trajectory { try requireWritableDirectory(trajectory, flag: "--trajectory") }
        }

        /// Where the samples go: `--out`, else samples.png unless only frames were asked for.
        var outPath: String? { out ?? (trajectory == nil ? "samples.png" : nil) }

        var samplingSolver: SamplingSolver? {
            solve.solver.map { SamplingSolver(method: $0.name, steps: steps, rtol: solve.rtol, atol: solve.atol) }
        }

        var resolvedFormat: String {
            let ext = URL(fileURLWithPath: outPath ?? "samples.png").pathExtension
            return format ?? (ext.isEmpty ? "png" : ext.lowercased())
        }

        var seed: UInt64 { runtime.seed(default: 0) }

        func run() throws {
            runtime.apply()
            let (flow, _, metadata) = try model.load()
            if let samplingSolver {
                guard let continuous = flow.base as? any ContinuousFlow<Float> else {
                    throw ValidationError("--solver applies to continuous models; \(model.checkpoint) holds a \(type(of: flow.base))")
                }
                try continuous.useSolver(samplingSolver)
            }
            if let image = try ImageRunMetadata(metadata: metadata) {
                try sampleImages(flow, image: image)
                return
            }
            var rng = RandomGenerator(seed: seed)
            let z = sampling.baseSamples(n, dimension: flow.dimension, using: &rng)
            if let out = outPath {
                let (x, nfe) = try flow.sampleTransport(z)
                switch resolvedFormat {
                case "npy": try PointsFile.write(Tensor<Double>(x), path: out, format: .npy)
                case "csv": try PointsFile.write(Tensor<Double>(x), path: out, format: .csv)
                default:
                    guard flow.dimension == 2 else {
                        throw LaminarCLIError("PNG output needs 2-D data; use --format npy or csv for \(flow.dimension)-D samples")
                    }
                    try Pictures.writeSamples(x, range: range, title: "\(n) samples of the model", path: out)
                }
                note("wrote \(n) samples to \(out) (NFE \(nfe))")
            }
            if let trajectory {
                guard flow.dimension == 2 else { throw LaminarCLIError("--trajectory needs 2-D data") }
                guard let ffjord = flow.base as? FFJORD<Float> else {
                    throw LaminarCLIError("--trajectory needs a continuous-time FFJORD model; this checkpoint holds a \(type(of: flow.base))")
                }
                let snapshots = try ffjord.trajectory(z.slice(axis: 0, 0..<Swift.min(n, 5_000)), frames: frames)
                let written = try Pictures.writeTrajectory(
                    snapshots, labels: frameLabels(ffjord), range: range, directory: trajectory)
                note("wrote \(written.count) frames to \(cleanPath(trajectory)): \(written.first ?? "")…\(written.last.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "")")
            }
        }
    
        /// The time stamp of each trajectory frame: the snapshots run from the base (t = T of the
        /// last block) to the data (t = 0 of the first), `frames` steps per block.
        private func frameLabels(_ ffjord: FFJORD<Float>) -> [String] {
            let blocks = ffjord.blocks.count
            var labels = ["t = \(String(format: "%.3f", ffjord.blocks.last?.endTime ?? 0)): base samples z ~ N(0, I)"]
            for (k, block) in ffjord.blocks.enumerated().reversed() {
                for f in 1...frames {
                    let t = block.endTime * (1 - Double(f) / Double(frames))
                    let which = blocks > 1 ? "block \(k + 1) of \(blocks), " : ""
                    let end = k == 0 && f == frames ? ": model samples" : " of \(String(format: "%.3f", block.endTime)) → 0"
                    labels.append("\(which)t = \(String(format: "%.3f", t))\(end)")
                }
            }
            return labels
        }

        /// Image models: a grid PNG of `n` samples, or their pixel intensities in [0, 1] as rows.
        private func sampleImages(_ flow: AnyFlow<Float>, image: ImageRunMetadata) throws {
            guard trajectory == nil else { throw LaminarCLIError("--trajectory is for 2-D models") }
            let out = outPath ?? "samples.png"
            if resolvedFormat == "png" {
                let nfe = try ImagePictures.writeSampleGrid(
                    flow: flow, preprocessing: image.preprocessing, height: image.height, width: image.width, count: n,
                    temperature: sampling.temperature, seed: seed, path: out)
                note("wrote a grid of \(n) samples (temperature \(sampling.temperature)) to \(out) (NFE \(nfe))")
                return
            }
            var rng = RandomGenerator(seed: seed)
            let (x, nfe) = try flow.sampleTransport(sampling.baseSamples(n, dimension: flow.dimension, using: &rng))
            let pixels = Tensor<Double>(shape: [n, flow.dimension], scalars: image.preprocessing.pixels(x))
            try PointsFile.write(pixels, path: out, format: resolvedFormat == "npy" ? .npy : .csv)
            note("wrote \(n) samples (pixel intensities in [0, 1]) to \(out) (NFE \(nfe))")
        }
    }
}
