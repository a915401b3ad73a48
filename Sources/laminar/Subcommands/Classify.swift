import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar classify`: ODE-Net, RK-Net and ResNet image classifiers (Neural ODE paper, §3).
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train and evaluate ODE-Net, RK-Net and ResNet image classifiers.",
            subcommands: [ClassifyTrain.self, ClassifyEvaluate.self])
    }
}

struct ClassifyTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train an image classifier (cross-entropy, Adam).",
        discussion: "Example: laminar classify train --data fashion-mnist --model odenet --epochs 1 --gradient adjoint --out runs/odenet")

    @OptionGroup var images: ImageDataOptions

    @Option(help: "odenet, rknet or resnet (default odenet).")
    var model: String?

    @Option(help: "Feature channels (default 64, the paper's).")
    var channels: Int?

    /// ODE-Net solves: dopri5 at rtol = atol = 1e-3 with the adjoint unless given.
    @OptionGroup var solve: SolverOptions

    @Option(name: .customLong("tol"), help: .hidden)
    var deprecatedTolerance: Double?

    @Option(name: .customLong("rk-steps"), help: "RK-Net: rk4 steps on [0, 1] (default 4).")
    var rkSteps: Int?

    @Option(parsing: .unconditional, help: "Training epochs (fractions allowed; in total, counting those before a --resume).")
    var epochs: Double = 1

    @OptionGroup(title: "Training run") var loop: LoopOptions<ClassifierLoopDefaults>

    @OptionGroup var runtime: RuntimeOptions

    var threads: Int { runtime.threads }

    /// The ODE-Net's solve settings (`--tol` is the old spelling of `--rtol` = `--atol`).
    var solveSettings: SolveSettings {
        let tol = deprecatedTolerance ?? 1e-3
        return solve.settings(defaults: SolveSettings(rtol: tol, atol: tol))
    }

    @OptionGroup(title: "Data parallel (mpirun -np N laminar …)") var distributed: DistributedOptions

    /// The configuration the flags describe (defaults for those not given).
    var configuration: ClassifierConfiguration {
        ClassifierConfiguration(
            architecture: ClassifierArchitecture(rawValue: model ?? "odenet") ?? .odenet, channels: channels ?? 64,
            solve: solveSettings, rkSteps: rkSteps ?? 4)
    }

    /// `--batch`, `--lr`, `--checkpoint-every`, `--out` and `--resume` of `classify train`: the
    /// Neural ODE paper's classifier settings.
    enum ClassifierLoopDefaults: LoopDefaults {
        static let values = LoopDefaultValues(
            batch: 128, batchHelp: "Batch size (default 128).", learningRate: 1e-3, checkpointEvery: 100, out: "runs/classify",
            resumeHelp: "The model, solver, data, --batch and --seed are read from the checkpoint (flags given again must agree); --epochs may change;")
    }

    func validate() throws {
        if let model, ClassifierArchitecture(rawValue: model) == nil {
            throw ValidationError("--model '\(model)' is unknown; use odenet, rknet or resnet")
        }
        if let t = deprecatedTolerance, !(t > 0 && t.isFinite) { throw ValidationError("--tol must be positive, got \(t)") }
        do {
            try configuration.validate()
            try (loop.options(epochs, seed: 0, resumed: nil) as ClassifierTrainingOptions).validate()
        } catch { throw ValidationError("\(error)") }
    }

    /// On `--resume`: the stored configuration and data, after checking the flags given again.
    private func storedRun(_ stored: ResumedCheckpoint) throws -> (ClassifierConfiguration, ImageDataSource) {
        let configuration = try stored.configuration(ClassifierConfiguration.self)
        stored.noteMissingSettings(["--batch", "--limit"])
        try stored.check("--model", given: model, stored: configuration.architecture.rawValue)
        try stored.check("--channels", given: channels.map(String.init), stored: String(configuration.channels))
        try stored.check("--rk-steps", given: rkSteps.map(String.init), stored: String(configuration.rkSteps))
        try stored.check(solver: solve, stored: configuration.solve)
        try stored.check("--tol", given: deprecatedTolerance.map { "\($0)" }, stored: "\(configuration.solve.rtol)")
        try stored.check("--batch", given: loop.batch.map(String.init), stored: stored.training.map { String($0.batchSize) })
        try stored.check("--seed", given: runtime.seed.map(String.init), stored: stored.seed.map(String.init))
        guard var data = ImageDataSource(metadata: stored.metadata) else {
            throw LaminarCLIError("cannot resume: \(stored.path) does not record its training data")
        }
        if let given = images.data {
            let givenSource = ImageDataSource(name: given, dataDirectory: images.dataDirectory ?? data.dataDirectory, limit: data.limit)
            if givenSource.directory != data.directory { try stored.check("--data", given: given, stored: data.name) }
        } else if let directory = images.dataDirectory {
            try stored.check("--data-dir", given: directory, stored: data.dataDirectory ?? "(default)")
        }
        if stored.training == nil {
            data.limit = images.limit  // not recorded by older checkpoints
        } else {
            try stored.check("--limit", given: images.limit.map(String.init), stored: data.limit.map(String.init) ?? "(all)")
        }
        return (configuration, data)
    }

    func run() throws {
        runtime.apply()
        SignalFlag.install()
        let parallel: DataParallel<Float> = try distributed.dataParallel()
        let stored = loop.resume ? try ResumedCheckpoint(directory: loop.out, model: "classifier") : nil
        let (configuration, source) = try stored.map(storedRun) ?? (
            self.configuration,
            ImageDataSource(name: images.data ?? "fashion-mnist", dataDirectory: images.dataDirectory, limit: images.limit))
        let seed = runtime.seed ?? stored?.seed ?? 0
        let splits = try source.load()
        var rng = RandomGenerator(seed: seed)
        let net = try ImageClassifier<Float>(configuration, using: &rng)
        var metadata = source.entries
        metadata[RunCheckpointKey.model] = "classifier"
        metadata[RunCheckpointKey.configuration] = try jsonString(configuration)
        if let stored {
            // Checkpoints written before the data source was recorded as a name keep their entries.
            for key in [RunCheckpointKey.configuration, RunCheckpointKey.data, "data_dir", "limit"] { metadata[key] = stored.metadata[key] }
        }
        let trainer = try ClassifierTrainer(
            model: net, options: loop.options(epochs, seed: seed, resumed: stored?.training), data: splits.train, directory: URL(fileURLWithPath: loop.out),
            metadata: metadata, parallel: parallel)
        try trainer.start(resume: loop.resume)
        let modelName = configuration.architecture.rawValue
        let parameters = net.parameters.reduce(0) { $0 + $1.count }
        note("laminar classify train: \(modelName) (\(parameters) parameters) on \(splits.train.count) images of \(source.name), \(trainer.totalIterations) iterations\(loop.resume ? ", resuming at iteration \(trainer.iteration) with the checkpoint's settings" : "")")
        try trainWithProgress(trainer, logEvery: 20) { r in
            [
                ("loss", String(format: "%.3f", r.loss)), ("acc", String(format: "%.2f", r.accuracy)),
                ("NFE", "\(r.nfe_forward)/\(r.nfe_backward)"), ("img/s", String(format: "%.0f", r.images_per_second)),
            ]
        }
        guard parallel.isRoot else { return }  // evaluation and summary: rank 0
        // Peak memory of the training run, read before the test pass.
        let peakMiB = peakResidentMiB()
        let records = try ClassifierRecord.read(from: trainer.metricsURL)
        let trainSeconds = records.reduce(0) { $0 + $1.seconds }
        let result = try evaluateClassifier(
            net, on: splits.test, progress: stageProgress("test accuracy", total: splits.test.count, unit: "images"))
        print(String(format: "test accuracy: %.4f (error %.2f%%), loss %.4f, NFE %.1f", result.accuracy, 100 * (1 - result.accuracy), result.loss, result.nfe))
        let summary = ClassifierRunSummary(
            model: modelName, parameters: parameters, epochs: epochs, trainImages: splits.train.count, testImages: splits.test.count,
            testAccuracy: result.accuracy, testError: 1 - result.accuracy, testNFE: result.nfe,
            trainNFEForward: records.isEmpty ? 0 : Double(records.reduce(0) { $0 + $1.nfe_forward }) / Double(records.count),
            trainNFEBackward: records.isEmpty ? 0 : Double(records.reduce(0) { $0 + $1.nfe_backward }) / Double(records.count),
            trainSeconds: trainSeconds, secondsPerEpoch: trainSeconds / max(epochs, 1e-9), peakResidentMiB: peakMiB, threads: threads)
        try trainer.run.directory.writeSummary(summary)
        print(String(format: "training: %.0f s (%.0f s/epoch), peak memory %.0f MiB", trainSeconds, summary.secondsPerEpoch, peakMiB))
        note("checkpoint: \(trainer.checkpointURL.path); summary: \(trainer.run.directory.summaryURL.path)")
    }
}

struct ClassifyEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test accuracy of a trained classifier, at several solver tolerances for ODE-Nets (accuracy against NFE).")

    @Option(help: "Checkpoint written by laminar classify train.")
    var checkpoint: String

    /// The test split of the checkpoint's data unless given.
    @OptionGroup var images: ImageDataOptions

    @Option(help: "Comma-separated tolerances for the ODE block, e.g. 1e-1,1e-3,1e-5 (default: the trained one).")
    var rtol: String?

    @Option(help: "PNG chart of accuracy against NFE (with --rtol).")
    var chart: String?

    @OptionGroup var runtime: RuntimeOptions

    func tolerances() throws -> [Double] {
        guard let rtol else { return [] }
        let values = rtol.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw ValidationError("--rtol must be comma-separated positive numbers, e.g. 1e-1,1e-3,1e-5; got '\(rtol)'")
        }
        return values.map { $0! }
    }

    /// The checkpoint's data unless other data is given; a note when they differ.
    func evaluationData(trainedOn: ImageDataSource?) throws -> ImageDataSource {
        guard let trainedOn else {
            // No data recorded: the flags, or Fashion-MNIST.
            return ImageDataSource(name: images.data ?? "fashion-mnist", dataDirectory: images.dataDirectory, limit: images.limit)
        }
        let chosen = ImageDataSource(
            name: images.data ?? trainedOn.name,
            dataDirectory: images.dataDirectory ?? (images.data == nil ? trainedOn.dataDirectory : nil),
            limit: images.limit ?? trainedOn.limit)
        if chosen.directory != trainedOn.directory {
            note("the model was trained on \(trainedOn.described) and is being evaluated on \(chosen.described)")
        }
        return chosen
    }

    func validate() throws {
        _ = try tolerances()
        if let chart { try requireWritableParent(of: chart, flag: "--chart") }
    }

    func run() throws {
        runtime.apply()
        SignalFlag.install()
        guard FileManager.default.fileExists(atPath: checkpoint) else { throw LaminarCLIError("--checkpoint \(checkpoint): no such file") }
        let stored = try Checkpoint<Float>.load(from: URL(fileURLWithPath: checkpoint))
        guard stored.metadata["model"] == "classifier", let json = stored.metadata["configuration"] else {
            let model = stored.metadata["model"] ?? "?"
            let hint = model == "latent" ? "; use laminar latent evaluate" : ModelSpec.names.contains(model) ? "; use laminar evaluate" : ""
            throw LaminarCLIError("\(checkpoint) is not a classifier checkpoint written by laminar classify train (model '\(model)')\(hint)")
        }
        let configuration = try JSONDecoder().decode(ClassifierConfiguration.self, from: Data(json.utf8))
        var rng = RandomGenerator(seed: 0)
        let net = try ImageClassifier<Float>(configuration, using: &rng)
        try stored.restore(parameters: net.namedParameters)
        let source = try evaluationData(trainedOn: ImageDataSource(metadata: stored.metadata))
        let splits = try source.load()
        let tols = try tolerances()
        var rows: [(Double?, Double, Double, Double)] = []
        if tols.isEmpty || configuration.architecture != .odenet {
            let r = try evaluateClassifier(
                net, on: splits.test, progress: stageProgress("test accuracy", total: splits.test.count, unit: "images"))
            rows.append((nil, r.accuracy, r.nfe, r.imagesPerSecond))
        } else {
            for tol in tols {
                let r = try evaluateClassifier(
                    net, on: splits.test, options: ODEOptions(method: .dopri5, rtol: tol, atol: tol),
                    progress: stageProgress(
                        "test accuracy at tolerance \(String(format: "%.0e", tol)) (\(rows.count + 1) of \(tols.count))",
                        total: splits.test.count, unit: "images"))
                rows.append((tol, r.accuracy, r.nfe, r.imagesPerSecond))
            }
        }
        print("tolerance   accuracy   error %   NFE      images/s")
        for (tol, acc, nfe, speed) in rows {
            let label = tol.map { String(format: "%.0e", $0) } ?? "trained"
            print(label.padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(format: " %8.4f   %7.2f   %6.1f   %8.0f", acc, 100 * (1 - acc), nfe, speed))
        }
        print("images: \(splits.test.count) (test split of \(source.described))")
        if let chart, rows.count > 1 {
            let errors = rows.map { 100 * (1 - $0.1) }
            let series = ChartSeries(
                name: "ODE-Net", xs: rows.map(\.2), ys: errors, color: LineChart.palette[0],
                pointLabels: rows.map { $0.0.map { "tol " + String(format: "%.0e", $0) } ?? "trained" })
            try PNG.write(LineChart.render(title: "ODE-Net test error against NFE at tolerances \(tols.map { String(format: "%.0e", $0) }.joined(separator: ", "))",
                                           xLabel: "forward NFE per batch", yLabel: "test error %", series: [series],
                                           yRange: 0...min(100, max(5, (errors.max() ?? 0) * 1.25))), to: chart)
            note("wrote \(chart)")
        }
    }
}

/// What `laminar classify train` measured, written as `summary.json` next to the checkpoint
/// (the source of the README's Table-1 rows).
struct ClassifierRunSummary: Codable {
    var model: String
    var parameters: Int
    var epochs: Double
    var trainImages: Int
    var testImages: Int
    var testAccuracy: Double
    var testError: Double
    var testNFE: Double
    var trainNFEForward: Double
    var trainNFEBackward: Double
    /// Wall-clock seconds of the training iterations, summed over every resumed attempt.
    var trainSeconds: Double
    var secondsPerEpoch: Double
    /// Peak resident set of this process during training (getrusage), MiB.
    var peakResidentMiB: Double
    var threads: Int
}
