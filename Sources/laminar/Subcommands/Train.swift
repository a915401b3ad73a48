import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar train`: maximum-likelihood training of a flow on toy or user data.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a density model (FFJORD, planar CNF, planar flow, Real NVP) by maximum likelihood.",
            discussion: """
                Example: laminar train --data checkerboard --hidden 64-64-64 --trace hutchinson \
                --gradient adjoint --iters 10000 --batch 512 --lr 1e-3 --out runs/checkerboard
                """)

        @Option(help: "Toy data set (\(ToyDataset.allCases.map(\.rawValue).joined(separator: ", "))) or a CSV/.npy points file.")
        var data: String = "checkerboard"

        @OptionGroup var model: ModelOptions

        @Option(help: "Training iterations.")
        var iters: Int = 10_000

        @Option(help: "Batch size.")
        var batch: Int = 512

        @Option(help: "Adam learning rate.")
        var lr: Double = 1e-3

        @Option(name: .customLong("weight-decay"), help: "Adam L2 weight decay.")
        var weightDecay: Double = 1e-5

        @Option(help: "Linear learning-rate warm-up iterations.")
        var warmup: Int = 0

        @Option(help: "Clip the global gradient norm to this value.")
        var clip: Double?

        @Option(name: .customLong("max-nfe"), help: "Stop when one iteration needs more function evaluations.")
        var maxNFE: Int?

        @Option(name: .customLong("on-divergence"), help: "stop or restore-and-halve-lr.")
        var onDivergence: String = "stop"

        @Option(help: "Output directory (metrics.jsonl, checkpoint.safetensors, PNGs).")
        var out: String = "runs/train"

        @Option(name: .customLong("checkpoint-every"), help: "Checkpoint interval in iterations.")
        var checkpointEvery: Int = 500

        @Flag(help: "Continue the run in --out from its checkpoint.")
        var resume: Bool = false

        @Option(help: "Random seed.")
        var seed: UInt64 = 0

        @Option(help: "BLAS threads.")
        var threads: Int = 1

        @Flag(help: "Skip the PNGs at the end.")
        var noPictures: Bool = false

        func validate() throws {
            guard DivergencePolicy(rawValue: onDivergence) != nil else {
                throw ValidationError("--on-divergence must be stop or restore-and-halve-lr, got '\(onDivergence)'")
            }
            guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
            try requireWritableDirectory(out, flag: "--out")
            do { try trainingOptions.validate() } catch { throw ValidationError("\(error)") }
            if ToyDataset(rawValue: data) == nil && !FileManager.default.fileExists(atPath: data) {
                throw ValidationError(
                    "--data '\(data)' is neither a toy data set (\(ToyDataset.allCases.map(\.rawValue).joined(separator: ", "))) nor an existing file")
            }
        }

        var trainingOptions: TrainingOptions {
            TrainingOptions(
                iterations: iters, batchSize: batch, learningRate: lr, weightDecay: weightDecay, warmup: warmup,
                gradientClip: clip, seed: seed, checkpointEvery: checkpointEvery, maxNFE: maxNFE,
                onDivergence: DivergencePolicy(rawValue: onDivergence) ?? .stop)
        }

        func run() throws {
            BLASThreads.set(threads)
            SignalFlag.install()
            let directory = URL(fileURLWithPath: out)
            let source: BatchSource<Float>
            if let toy = ToyDataset(rawValue: data) {
                source = .toy(toy)
            } else {
                source = .points(Tensor<Float>(try PointsFile.load(path: data)))
            }
            let spec = try model.spec(dimension: source.dimension)
            do { try spec.validate() } catch { throw ValidationError("\(error)") }
            let session = try TrainingSession(
                spec: spec, options: trainingOptions, source: source, dataName: data,
                directory: directory, resume: resume)
            note("laminar train: \(data), \(spec.summary) (\(session.flow.parameterCount) parameters)\(resume ? ", resuming at iteration \(session.trainer.iteration)" : "")")
            let bar = ProgressBar(total: iters, startIteration: session.trainer.iteration)
            do {
                try session.trainer.train(shouldStop: { SignalFlag.isSet }) { r in
                    bar.update(iteration: r.iteration, fields: [
                        ("loss", String(format: "%.4f", r.loss)),
                        ("NFE", "\(r.nfe_forward)/\(r.nfe_backward)"),
                    ])
                }
            } catch {
                bar.finish()
                throw error
            }
            bar.finish()
            note("checkpoint: \(session.trainer.checkpointURL.path)")
            if !noPictures && source.dimension == 2 {
                let written = try Pictures.writeToyPictures(
                    flow: session.flow, toy: ToyDataset(rawValue: data), directory: directory, seed: seed)
                for path in written { note("wrote \(path)") }
            }
        }
    }
}
