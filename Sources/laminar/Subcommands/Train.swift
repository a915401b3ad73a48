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

        @Option(help: "Toy data set (\(ToyDataset.allCases.map(\.rawValue).joined(separator: ", "))), a CSV/.npy points file, or images: fashion-mnist, mnist, an MNIST-format directory (default checkerboard; on --resume: the run's).")
        var data: String?

        @Option(name: .customLong("data-dir"), help: "Images: directory of the IDX files for --data mnist (default Datasets/mnist) or fashion-mnist.")
        var dataDirectory: String?

        @Option(help: "Images: use only the first N training and test images.")
        var limit: Int?

        @Option(help: "Images: α of the logit transform y = logit(α + (1 − 2α)x) (default 1e-6).")
        var alpha: Double?

        @Flag(inversion: .prefixedNo, help: "Images: random horizontal flips of the training images (default off).")
        var flips: Bool?

        @Option(name: .customLong("test-fraction"), help: "Points files: fraction of the rows held out (seeded by --seed) for laminar evaluate (default 0.1).")
        var testFraction: Double?

        @Option(name: .customLong("eval-images"), help: "Images: test images evaluated at the end (0: skip).")
        var evalImages: Int = 1_000

        @OptionGroup var model: ModelOptions

        @OptionGroup var objective: ObjectiveOptions

        @Option(parsing: .unconditional, help: "Training iterations (in total, counting those before a --resume).")
        var iters: Int = 10_000

        @Option(name: .customLong("weight-decay"), help: "Adam L2 weight decay (default 1e-5).")
        var weightDecay: Double?

        @OptionGroup(title: "Training run") var loop: LoopOptions<FlowLoopDefaults>

        @OptionGroup var runtime: RuntimeOptions

        @Flag(help: "Skip the PNGs at the end.")
        var noPictures: Bool = false

        @OptionGroup(title: "Data parallel (mpirun -np N laminar train …)") var distributed: DistributedOptions

        func validate() throws {
            if let alpha { guard alpha >= 0, alpha < 0.5 else { throw ValidationError("--alpha must be in [0, 0.5), got \(alpha)") } }
            if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1, got \(limit)") }
            guard evalImages >= 0 else { throw ValidationError("--eval-images must be ≥ 0, got \(evalImages)") }
            if let testFraction, !(testFraction >= 0 && testFraction < 1) {
                throw ValidationError("--test-fraction must be in [0, 1), got \(testFraction)")
            }
            do { try trainingOptions(defaultBatch: FlowLoopDefaults.values.batch, seed: 0, resumed: nil).validate() } catch { throw ValidationError("\(error)") }
            if let data, ToyDataset(rawValue: data) == nil, !ImageData.isImageData(data), !looksLikePath(data) {
                throw ValidationError(
                    "--data '\(data)' is neither a toy data set (\(ToyDataset.allCases.map(\.rawValue).joined(separator: ", "))), an image set (fashion-mnist, mnist) nor a file path")
            }
        }

        /// `--batch`, `--lr`, `--checkpoint-every`, `--out` and `--resume` of `laminar train`: FFJORD's toy settings.
        enum FlowLoopDefaults: LoopDefaults {
            static let values = LoopDefaultValues(
                batch: 512, batchHelp: "Batch size (default 512; image data 64).", learningRate: 1e-3, checkpointEvery: 500, out: "runs/train",
                resumeHelp: "The model, data, --batch and --seed are read from the checkpoint (flags given again must agree); --iters, --eval-images and --no-pictures may change; --weight-decay and")
        }

        /// The loop's options: the flags given, else the resumed run's (`resumed`), else the defaults.
        func trainingOptions(defaultBatch: Int, seed: UInt64, resumed: TrainingOptions?) -> TrainingOptions {
            loop.settings(defaultBatch: defaultBatch, seed: seed, resumed: resumed)
                .trainingOptions(iterations: iters, weightDecay: weightDecay ?? resumed?.weightDecay ?? 1e-5)
        }

        func run() throws {
            runtime.apply()
            SignalFlag.install()
            let parallel: DataParallel<Float> = try distributed.dataParallel()
            let directory = URL(fileURLWithPath: loop.out)
            let stored = loop.resume ? try StoredRun(directory: directory) : nil
            let storedImage = try stored.flatMap { try ImageRunMetadata(metadata: $0.metadata) }
            if let stored {
                try stored.check("--data", given: data, stored: stored.data)
                try stored.check("--batch", given: loop.batch.map(String.init), stored: stored.training.map { String($0.batchSize) })
                try stored.check("--seed", given: runtime.seed.map(String.init), stored: stored.seed.map(String.init))
                try stored.check("--test-fraction", given: testFraction.map { "\($0)" },
                                 stored: stored.metadata["test_fraction"])
                if let storedImage {
                    try stored.check("--data-dir", given: dataDirectory, stored: storedImage.dataDirectory ?? "(default)")
                    try stored.check("--limit", given: limit.map(String.init), stored: storedImage.limit.map(String.init) ?? "(all)")
                    try stored.check("--alpha", given: alpha.map { "\($0)" }, stored: "\(storedImage.preprocessing.alpha)")
                    try stored.check("--flips", given: flips.map { "\($0)" }, stored: "\(storedImage.preprocessing.horizontalFlips)")
                }
            }
            let dataName = data ?? stored?.data ?? "checkerboard"
            let seed = runtime.seed ?? stored?.seed ?? 0
            let preprocessing = ImagePreprocessing(
                alpha: alpha ?? storedImage?.preprocessing.alpha ?? 1e-6, logit: true,
                horizontalFlips: flips ?? storedImage?.preprocessing.horizontalFlips ?? false)
            let source: BatchSource<Float>
            var images: ImageSplits? = nil
            var extraMetadata: [String: String] = [:]
            if let toy = ToyDataset(rawValue: dataName) {
                source = .toy(toy)
            } else if ImageData.isImageData(dataName) {
                let directoryName = dataDirectory ?? storedImage?.dataDirectory
                let limit = self.limit ?? storedImage?.limit
                let splits = try ImageData.load(dataName, dataDirectory: directoryName, limit: limit)
                images = splits
                source = .images(splits.train, preprocessing)
                extraMetadata = try ImageRunMetadata(
                    preprocessing: preprocessing, height: splits.train.height, width: splits.train.width,
                    dataDirectory: directoryName, limit: limit).entries()
            } else {
                let fraction = stored?.metadata["test_fraction"].flatMap(Double.init) ?? testFraction ?? 0.1
                let split = HeldOutSplit(testFraction: fraction, seed: seed)
                let points = Tensor<Float>(try PointsFile.load(path: dataName))
                let (train, test) = split.split(points)
                source = .points(train)
                extraMetadata["test_fraction"] = "\(fraction)"
                note("\(dataName): \(train.shape[0]) training rows, \(test.shape[0]) held out for laminar evaluate (--test-fraction \(fraction), seed \(seed))")
            }
            let imageShape = images.map { (1, $0.train.height, $0.train.width) }
            let spec: ModelSpec
            if let stored {
                try stored.check(model: model, image: imageShape)
                guard stored.spec.dimension == source.dimension else {
                    throw LaminarCLIError("cannot resume: the checkpoint's model has dimension \(stored.spec.dimension) but \(dataName) has \(source.dimension)")
                }
                spec = stored.spec
            } else {
                spec = objective.adjusted(try model.spec(dimension: source.dimension, image: imageShape))
                do { try spec.validate() } catch { throw ValidationError("\(error)") }
            }
            let trainingObjective = try objective.makeObjective(dimension: source.dimension)
            if stored == nil, images != nil { noteImageDefaults(spec) }
            let options = trainingOptions(defaultBatch: images != nil ? 64 : FlowLoopDefaults.values.batch, seed: seed, resumed: stored?.training)
            let batchSize = options.batchSize
            extraMetadata["training"] = try jsonString(options)
            let session = try TrainingSession(
                spec: spec, options: options, source: source, dataName: dataName,
                directory: directory, resume: loop.resume, extraMetadata: extraMetadata, objective: trainingObjective,
                parallel: parallel)
            if trainingObjective != nil {
                do { _ = try FlowMatching<Float>.field(of: session.flow) } catch { throw ValidationError("\(error)") }
            }
            note("laminar train: \(dataName), \(spec.summary) (\(session.flow.parameterCount) parameters), batch \(batchSize)\(objective.isFlowMatching ? ", flow matching (\(objective.configuration.path.scheduler.rawValue) path, \(objective.configuration.coupling.rawValue) coupling)" : "")\(loop.resume ? ", resuming at iteration \(session.trainer.iteration) with the checkpoint's settings" : "")")
            var recent: [IterationRecord] = []
            try trainWithProgress(session.trainer) { r in
                recent.append(r)
                if recent.count > 100 { recent.removeFirst(50) }
                var fields = [("loss", String(format: "%.4f", r.loss))]
                if let bpd = r.bits_per_dim { fields.append(("bits/dim", String(format: "%.3f", bpd))) }
                fields.append(("NFE", "\(r.nfe_forward)/\(r.nfe_backward)"))
                return fields
            }
            guard parallel.isRoot else { return }  // evaluation and pictures: rank 0
            note("checkpoint: \(session.trainer.checkpointURL.path)")
            if let images {
                try finishImageRun(
                    session: session, test: images.test, recent: recent.suffix(50), directory: directory,
                    preprocessing: preprocessing, seed: seed)
                return
            }
            if !noPictures && source.dimension == 2 {
                let written = try Pictures.writeToyPictures(
                    flow: session.flow, modelName: spec.name, toy: ToyDataset(rawValue: dataName), directory: directory, seed: seed)
                for path in written { note("wrote \(path)") }
            }
        }

        /// On image data: the defaults that differ from the toy ones, said once at start-up.
        private func noteImageDefaults(_ spec: ModelSpec) {
            var chosen: [String] = []
            if loop.batch == nil { chosen.append("--batch 64") }
            if spec.solveSettings != nil {
                if model.solve.rtol == nil { chosen.append("--rtol 1e-3") }
                if model.solve.atol == nil { chosen.append("--atol 1e-3") }
            }
            chosen.append("--eval-images \(evalImages)")
            note("image data: using \(chosen.joined(separator: " ")) (give a flag to override)")
        }

        /// After an image run: test bits/dim, summary.json and a sample grid in the run directory.
        private func finishImageRun(
            session: TrainingSession, test: ImageDataset, recent tail: ArraySlice<IterationRecord>, directory: URL,
            preprocessing: ImagePreprocessing, seed: UInt64
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
                    session.flow, data: test, indices: Array(0..<n), preprocessing: preprocessing,
                    progress: stageProgress("test bits/dim", total: n, unit: "images"))
                summary.testImages = n
                summary.testBitsPerDimension = result.bitsPerDimension
                summary.testStandardError = result.standardError
                summary.testExactTrace = result.exactTrace
                summary.testNFE = Double(result.nfe) / Double((n + 99) / 100)
                print(String(format: "bits/dim: %.4f ± %.4f", result.bitsPerDimension, result.standardError))
                note("\(n) test images, \(result.exactTrace ? "exact log-determinant" : "Hutchinson trace estimate (exact trace infeasible at \(test.pixelsPerImage) dimensions)"), \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            }
            try RunDirectory(directory).writeSummary(summary)
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
