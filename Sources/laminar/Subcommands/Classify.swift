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

    @Option(help: "odenet, rknet or resnet.")
    var model: String = "odenet"

    @Option(help: "Feature channels (the paper: 64).")
    var channels: Int = 64

    /// ODE-Net solves: dopri5 at rtol = atol = 1e-3 with the adjoint unless given.
    @OptionGroup var solve: SolverOptions

    @Option(name: .customLong("tol"), help: .hidden)
    var deprecatedTolerance: Double?

    @Option(name: .customLong("rk-steps"), help: "RK-Net: rk4 steps on [0, 1].")
    var rkSteps: Int = 4

    @Option(parsing: .unconditional, help: "Training epochs (fractions allowed).")
    var epochs: Double = 1

    @Option(help: "Batch size.")
    var batch: Int = 128

    @Option(help: "Adam learning rate.")
    var lr: Double = 1e-3

    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint interval in iterations.")
    var checkpointEvery: Int = 100

    @Option(help: "Output directory.")
    var out: String = "runs/classify"

    @Flag(help: "Continue the run in --out from its checkpoint.")
    var resume: Bool = false

    @OptionGroup var runtime: RuntimeOptions

    var seed: UInt64 { runtime.seed(default: 0) }
    var threads: Int { runtime.threads }

    /// The ODE-Net's solve settings (`--tol` is the old spelling of `--rtol` = `--atol`).
    var solveSettings: SolveSettings {
        let tol = deprecatedTolerance ?? 1e-3
        return solve.settings(defaults: SolveSettings(rtol: tol, atol: tol))
    }

    @OptionGroup(title: "Data parallel (mpirun -np N laminar …)") var distributed: DistributedOptions

    var configuration: ClassifierConfiguration {
        ClassifierConfiguration(
            architecture: ClassifierArchitecture(rawValue: model) ?? .odenet, channels: channels, solve: solveSettings,
            rkSteps: rkSteps)
    }

    func validate() throws {
        guard ClassifierArchitecture(rawValue: model) != nil else {
            throw ValidationError("--model '\(model)' is unknown; use odenet, rknet or resnet")
        }
        if let t = deprecatedTolerance, !(t > 0 && t.isFinite) { throw ValidationError("--tol must be positive, got \(t)") }
        do {
            try configuration.validate()
            try ClassifierTrainingOptions(epochs: epochs, batchSize: batch, learningRate: lr, seed: seed, checkpointEvery: checkpointEvery).validate()
        } catch { throw ValidationError("\(error)") }
        try requireWritableDirectory(out, flag: "--out")
    }

    func run() throws {
        runtime.apply()
        SignalFlag.install()
        let parallel: DataParallel<Float> = try distributed.dataParallel()
        let splits = try images.load()
        var rng = RandomGenerator(seed: seed)
        let net = try ImageClassifier<Float>(configuration, using: &rng)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata = [
            "model": "classifier", "configuration": String(decoding: try encoder.encode(configuration), as: UTF8.self),
            "data": images.directory,
        ]
        let trainer = try ClassifierTrainer(
            model: net,
            options: ClassifierTrainingOptions(epochs: epochs, batchSize: batch, learningRate: lr, seed: seed, checkpointEvery: checkpointEvery),
            data: splits.train, directory: URL(fileURLWithPath: out), metadata: metadata, parallel: parallel)
        try trainer.start(resume: resume)
        let parameters = net.parameters.reduce(0) { $0 + $1.count }
        note("laminar classify train: \(model) (\(parameters) parameters) on \(splits.train.count) images of \(images.data), \(trainer.totalIterations) iterations")
        let bar = ProgressBar(total: trainer.totalIterations, startIteration: trainer.iteration, logEvery: 20)
        do {
            try trainer.train(shouldStop: { SignalFlag.isSet }) { r in
                bar.update(iteration: r.iteration, fields: [
                    ("loss", String(format: "%.3f", r.loss)), ("acc", String(format: "%.2f", r.accuracy)),
                    ("NFE", "\(r.nfe_forward)/\(r.nfe_backward)"), ("img/s", String(format: "%.0f", r.images_per_second)),
                ])
            }
        } catch {
            bar.finish()
            throw error
        }
        bar.finish()
        guard parallel.isRoot else { return }  // evaluation and summary: rank 0
        // Peak memory of the training run, read before the test pass.
        let peakMiB = peakResidentMiB()
        let records = try ClassifierRecord.read(from: trainer.metricsURL)
        let trainSeconds = records.reduce(0) { $0 + $1.seconds }
        let result = try evaluateClassifier(
            net, on: splits.test, progress: stageProgress("test accuracy", total: splits.test.count, unit: "images"))
        print(String(format: "test accuracy: %.4f (error %.2f%%), loss %.4f, NFE %.1f", result.accuracy, 100 * (1 - result.accuracy), result.loss, result.nfe))
        let summary = ClassifierRunSummary(
            model: model, parameters: parameters, epochs: epochs, trainImages: splits.train.count, testImages: splits.test.count,
            testAccuracy: result.accuracy, testError: 1 - result.accuracy, testNFE: result.nfe,
            trainNFEForward: records.isEmpty ? 0 : Double(records.reduce(0) { $0 + $1.nfe_forward }) / Double(records.count),
            trainNFEBackward: records.isEmpty ? 0 : Double(records.reduce(0) { $0 + $1.nfe_backward }) / Double(records.count),
            trainSeconds: trainSeconds, secondsPerEpoch: trainSeconds / max(epochs, 1e-9), peakResidentMiB: peakMiB, threads: threads)
        let summaryURL = URL(fileURLWithPath: out).appendingPathComponent("summary.json")
        let summaryEncoder = JSONEncoder()
        summaryEncoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try summaryEncoder.encode(summary)), to: summaryURL)
        print(String(format: "training: %.0f s (%.0f s/epoch), peak memory %.0f MiB", trainSeconds, summary.secondsPerEpoch, peakMiB))
        note("checkpoint: \(trainer.checkpointURL.path); summary: \(summaryURL.path)")
    }
}

struct ClassifyEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test accuracy of a trained classifier, at several solver tolerances for ODE-Nets (accuracy against NFE).")

    @Option(help: "Checkpoint written by laminar classify train.")
    var checkpoint: String

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
        let splits = try images.load()
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
