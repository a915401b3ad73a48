import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar train`: maximum-likelihood training of a flow on toy or user data.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a density model (FFJORD, planar CNF, planar flow, Real NVP) by maximum likelihood, or a CNF by flow matching.",
            discussion: """
                Example: laminar train --data checkerboard --hidden 64-64-64 --trace hutchinson \
                --gradient adjoint --iters 10000 --batch 512 --lr 1e-3 --out runs/checkerboard

                Flow matching: laminar train --data 8gaussians --objective flow-matching --coupling ot \
                --iters 20000 --out runs/8gaussians-fm
                """)

        @Option(help: "Toy data set (\(ToyDataset.allCases.map(\.rawValue).joined(separator: ", "))), a CSV/.npy points file, or images: fashion-mnist, mnist, an MNIST-format directory.")
        var data: String = "checkerboard"

        @Option(name: .customLong("data-dir"), help: "Images: directory of the IDX files for --data mnist (default Datasets/mnist) or fashion-mnist.")
        var dataDirectory: String?

        @Option(help: "Images: use only the first N training and test images.")
        var limit: Int?

        @Option(help: "Images: α of the logit transform y = logit(α + (1 − 2α)x).")
        var alpha: Double = 1e-6

        @Flag(help: "Images: random horizontal flips of the training images.")
        var flips: Bool = false

        @Option(name: .customLong("time-budget"), help: "Stop cleanly after this much training time (e.g. 90s, 60m, 2h), checkpoint and evaluate.")
        var timeBudget: String?

        @Option(name: .customLong("eval-images"), help: "Images: test images evaluated at the end (0: skip).")
        var evalImages: Int = 1_000

        @OptionGroup var model: ModelOptions

        @OptionGroup var objective: ObjectiveOptions

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

        @OptionGroup(title: "Data parallel (mpirun -np N laminar train …)") var distributed: DistributedOptions

        func validate() throws {
            guard DivergencePolicy(rawValue: onDivergence) != nil else {
                throw ValidationError("--on-divergence must be stop or restore-and-halve-lr, got '\(onDivergence)'")
            }
            guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
            try requireWritableDirectory(out, flag: "--out")
            if let timeBudget, parseDuration(timeBudget) == nil {
                throw ValidationError("--time-budget must be a duration such as 90s, 60m or 2h, got '\(timeBudget)'")
            }
            guard alpha >= 0, alpha < 0.5 else { throw ValidationError("--alpha must be in [0, 0.5), got \(alpha)") }
            if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1, got \(limit)") }
            guard evalImages >= 0 else { throw ValidationError("--eval-images must be ≥ 0, got \(evalImages)") }
            do { try trainingOptions.validate() } catch { throw ValidationError("\(error)") }
            if ToyDataset(rawValue: data) == nil && !FileManager.default.fileExists(atPath: data) && !ImageData.isImageData(data) {
                throw ValidationError(
                    "--data '\(data)' is neither a toy data set (\(ToyDataset.allCases.map(\.rawValue).joined(separator: ", "))) nor an existing file")
            }
        }

        var trainingOptions: TrainingOptions {
            TrainingOptions(
                iterations: iters, batchSize: batch, learningRate: lr, weightDecay: weightDecay, warmup: warmup,
                gradientClip: clip, seed: seed, checkpointEvery: checkpointEvery, maxNFE: maxNFE,
                onDivergence: DivergencePolicy(rawValue: onDivergence) ?? .stop,
                timeBudget: timeBudget.flatMap(parseDuration))
        }

        var preprocessing: ImagePreprocessing { ImagePreprocessing(alpha: alpha, logit: true, horizontalFlips: flips) }

        func run() throws {
            BLASThreads.set(threads)
            SignalFlag.install()
            let parallel: DataParallel<Float> = try distributed.dataParallel()
            let directory = URL(fileURLWithPath: out)
            let source: BatchSource<Float>
            var images: ImageSplits? = nil
            var extraMetadata: [String: String] = [:]
            if let toy = ToyDataset(rawValue: data) {
                source = .toy(toy)
            } else if ImageData.isImageData(data) {
                let splits = try ImageData.load(data, dataDirectory: dataDirectory, limit: limit)
                images = splits
                source = .images(splits.train, preprocessing)
                extraMetadata = try ImageRunMetadata(
                    preprocessing: preprocessing, height: splits.train.height, width: splits.train.width,
                    dataDirectory: dataDirectory, limit: limit).entries()
            } else {
                source = .points(Tensor<Float>(try PointsFile.load(path: data)))
            }
            let spec = objective.adjusted(try model.spec(
                dimension: source.dimension, image: images.map { (1, $0.train.height, $0.train.width) }))
            do { try spec.validate() } catch { throw ValidationError("\(error)") }
            let trainingObjective = try objective.makeObjective(dimension: source.dimension)
            let session = try TrainingSession(
                spec: spec, options: trainingOptions, source: source, dataName: data,
                directory: directory, resume: resume, extraMetadata: extraMetadata, objective: trainingObjective,
                parallel: parallel)
            if trainingObjective != nil {
                do { _ = try FlowMatching<Float>.field(of: session.flow) } catch { throw ValidationError("\(error)") }
            }
            note("laminar train: \(data), \(spec.summary) (\(session.flow.parameterCount) parameters)\(objective.isFlowMatching ? ", flow matching (\(objective.configuration.path.scheduler.rawValue) path, \(objective.configuration.coupling.rawValue) coupling)" : "")\(resume ? ", resuming at iteration \(session.trainer.iteration)" : "")")
            let budget = trainingOptions.timeBudget
            let bar = ProgressBar(total: iters, startIteration: session.trainer.iteration, timeBudget: budget,
                                  elapsed: session.trainer.elapsedSeconds)
            var recent: [IterationRecord] = []
            do {
                try session.trainer.train(shouldStop: { SignalFlag.isSet }) { r in
                    recent.append(r)
                    if recent.count > 100 { recent.removeFirst(50) }
                    var fields = [("loss", String(format: "%.4f", r.loss))]
                    if let bpd = r.bits_per_dim { fields.append(("bits/dim", String(format: "%.3f", bpd))) }
                    fields.append(("NFE", "\(r.nfe_forward)/\(r.nfe_backward)"))
                    bar.update(iteration: r.iteration, fields: fields)
                }
            } catch {
                bar.finish()
                throw error
            }
            bar.finish()
            guard parallel.isRoot else { return }  // evaluation and pictures: rank 0
            if session.trainer.stoppedAtTimeBudget {
                note(String(format: "time budget reached after %.0f s at iteration %d", session.trainer.elapsedSeconds, session.trainer.iteration))
            }
            note("checkpoint: \(session.trainer.checkpointURL.path)")
            if let images {
                try finishImageRun(session: session, test: images.test, recent: recent.suffix(50), directory: directory)
                return
            }
            if !noPictures && source.dimension == 2 {
                let written = try Pictures.writeToyPictures(
                    flow: session.flow, toy: ToyDataset(rawValue: data), directory: directory, seed: seed)
                for path in written { note("wrote \(path)") }
            }
        }
    
        /// After an image run: test bits/dim, summary.json and a sample grid in the run directory.
        private func finishImageRun(
            session: TrainingSession, test: ImageDataset, recent tail: ArraySlice<IterationRecord>, directory: URL
        ) throws {
            var summary = ImageRunSummary(
                model: session.spec.name, summary: session.spec.summary, parameters: session.flow.parameterCount,
                iterations: session.trainer.iteration, trainingSeconds: session.trainer.elapsedSeconds,
                stoppedAtTimeBudget: session.trainer.stoppedAtTimeBudget)
            if !tail.isEmpty {
                summary.trainNFEForward = Double(tail.map(\.nfe_forward).reduce(0, +)) / Double(tail.count)
                summary.trainNFEBackward = Double(tail.map(\.nfe_backward).reduce(0, +)) / Double(tail.count)
                summary.secondsPerIteration = tail.map(\.seconds).reduce(0, +) / Double(tail.count)
                let bits = tail.compactMap(\.bits_per_dim)  // none under flow matching (no likelihood in training)
                if !bits.isEmpty { summary.trainBitsPerDimension = bits.reduce(0, +) / Double(bits.count) }
            }
            if evalImages > 0 {
                let n = min(evalImages, test.count)
                let start = Date()
                let result = try Evaluation.imageBitsPerDimension(
                    session.flow, data: test, indices: Array(0..<n), preprocessing: preprocessing)
                summary.testImages = n
                summary.testBitsPerDimension = result.bitsPerDimension
                summary.testStandardError = result.standardError
                summary.testExactTrace = result.exactTrace
                summary.testNFE = Double(result.nfe) / Double((n + 99) / 100)
                print(String(format: "bits/dim: %.4f ± %.4f", result.bitsPerDimension, result.standardError))
                note("\(n) test images, \(result.exactTrace ? "exact log-determinant" : "Hutchinson trace estimate (exact trace infeasible at \(test.pixelsPerImage) dimensions)"), \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            }
            try ImageRunSummary.write(summary, to: directory.appendingPathComponent("summary.json"))
            if !noPictures {
                let path = directory.appendingPathComponent("samples.png").path
                try ImagePictures.writeSampleGrid(
                    flow: session.flow, preprocessing: preprocessing, height: test.height, width: test.width, count: 64,
                    temperature: 0.7, seed: seed &+ 1, path: path)
                note("wrote \(path)")
            }
        }
    }
}
