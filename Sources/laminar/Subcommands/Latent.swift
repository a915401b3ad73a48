import ArgumentParser
import Foundation
import Laminar

extension LaminarCommand {
    /// `laminar latent`: latent ODEs and the RNN baseline on irregular time series (Neural ODE
    /// paper, §5).
    struct Latent: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Latent ODEs (GRU or ODE-RNN encoder), latent SDEs and an RNN baseline on irregularly sampled time series.",
            subcommands: [LatentTrain.self, LatentEvaluate.self, LatentPlot.self])
    }
}

/// A trained latent model restored from its checkpoint, with its data.
struct LoadedLatentRun {
    let model: any SeriesModel<Float>
    let configuration: LatentConfiguration
    let data: LatentDataSpec
    let iteration: Int

    init(checkpoint path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LaminarCLIError("--checkpoint \(path): no such file")
        }
        let checkpoint = try Checkpoint<Float>.load(from: URL(fileURLWithPath: path))
        guard checkpoint.metadata["model"] == "latent", let config = checkpoint.metadata["configuration"],
              let dataJSON = checkpoint.metadata["data"] else {
            let model = checkpoint.metadata["model"] ?? "?"
            let hint = model == "classifier" ? "; use laminar classify evaluate" : ModelSpec.names.contains(model) ? "; use laminar evaluate" : ""
            throw LaminarCLIError("\(path) is not a checkpoint of laminar latent train (model '\(model)')\(hint)")
        }
        let decoder = JSONDecoder()
        do {
            configuration = try decoder.decode(LatentConfiguration.self, from: Data(config.utf8))
            data = try decoder.decode(LatentDataSpec.self, from: Data(dataJSON.utf8))
        } catch {
            throw LaminarCLIError("\(path): unreadable latent model metadata (\(error))")
        }
        model = try makeSeriesModel(configuration, seed: 0)
        try checkpoint.restore(parameters: model.namedParameters)
        iteration = Int(checkpoint.metadata["iteration"] ?? "") ?? 0
    }
}

struct LatentTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a latent ODE, an ODE-RNN-encoded latent ODE, a latent SDE or the GRU baseline.",
        discussion: "Example: laminar latent train --data spirals --model latent-ode --points 30 --iters 2000 --out runs/spirals")

    @Option(help: "spirals (the paper's data set), or a CSV file series_id,time,feature_1,… of your own series.")
    var data: String = "spirals"
    @Option(help: "Model: \(LatentModelKind.names).")
    var model: String = "latent-ode"
    @Option(help: "Spirals: training series.")
    var series: Int = 1000
    @Option(help: "Spirals: observations per series (1…100, at random times of the window).")
    var points: Int = 30
    @Option(help: "Spirals: observation noise (standard deviation).")
    var noise: Double = 0.3
    @Option(name: .customLong("test-series"), help: "Spirals: test series for the scores.")
    var testSeries: Int = 100
    @Option(name: .customLong("observed-fraction"), help: "CSV: fraction of each series' time span the encoder sees; the rest is extrapolated.")
    var observedFraction: Double = 0.5
    @Option(help: "Latent dimension.")
    var latent: Int = 4
    @Option(help: "Width of the latent dynamics, decoder and RNN head.")
    var hidden: Int = 20
    @Option(name: .customLong("rnn-hidden"), help: "GRU hidden units (encoder or baseline).")
    var rnnHidden: Int = 25
    @Option(name: .customLong("obs-std"), help: "Standard deviation of the Gaussian observation model.")
    var obsStd: Double = 0.3
    @Flag(help: "Also model the observation times as a Poisson process with intensity λ(z(t)).")
    var poisson = false
    /// Solver flags; the default gradient is backprop: the adjoint restarts its backward solve at
    /// every observation time of the batch, so with many times backprop is several times faster.
    /// A latent SDE takes `--gradient backprop` or `adjoint` (the stochastic adjoint).
    @OptionGroup var solve: SolverOptions
    /// The old spelling of `--solver`; for `--model latent-sde` the SDE scheme.
    @Option(help: "latent-sde: the SDE scheme, euler, heun or midpoint (default). (For ODE models the old spelling of --solver.)")
    var method: String?
    @Option(name: .customLong("sde-step"), help: "latent-sde: step size of the SDE scheme.")
    var sdeStep: Double = 0.05
    @Option(parsing: .unconditional, help: "Training iterations.")
    var iters: Int = 2000
    @Option(help: "Series per batch.")
    var batch: Int = 100
    @Option(help: "Adam learning rate.")
    var lr: Double = 1e-2
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint interval in iterations.")
    var checkpointEvery: Int = 100
    @Option(help: "Output directory.")
    var out: String = "runs/latent"
    @Flag(help: "Continue the run in --out from its checkpoint.")
    var resume = false
    @OptionGroup var runtime: RuntimeOptions

    var seed: UInt64 { runtime.seed(default: 0) }

    @OptionGroup(title: "Data parallel (mpirun -np N laminar …)") var distributed: DistributedOptions

    var kind: LatentModelKind? { LatentModelKind(rawValue: model) }

    /// The solve settings: the latent models' defaults (dopri5 at 1e-5, backprop) with the flags
    /// applied (`--method` is the old spelling of `--solver`).
    var solveSettings: SolveSettings {
        var s = solve.settings(defaults: SolveSettings(gradient: .backprop))
        if kind != .latentSDE, solve.solver == nil, let method, let tableau = Tableau.named(method) { s.method = tableau }
        return s
    }

    var modelConfiguration: LatentConfiguration {
        LatentConfiguration(
            kind: kind ?? .latentODE, features: 2, latent: latent, hidden: hidden, rnnHidden: rnnHidden,
            observationStd: obsStd, poisson: poisson, solve: solveSettings,
            // The SDE settings only for a latent SDE (elsewhere they keep their defaults, which are not stored).
            sdeScheme: kind == .latentSDE ? method ?? solve.solver?.name ?? "midpoint" : "midpoint",
            sdeStep: kind == .latentSDE ? sdeStep : nil,
            sdeGradient: kind == .latentSDE ? solve.gradient?.name ?? "backprop" : "backprop")
    }

    var dataSpec: LatentDataSpec {
        LatentDataSpec(
            source: data, spirals: SpiralDataset.Settings(series: series, points: points, noise: noise),
            testSeries: testSeries, observedFraction: observedFraction, seed: seed)
    }

    func validate() throws {
        guard kind != nil else { throw ValidationError("--model '\(model)' is unknown; use \(LatentModelKind.names)") }
        if kind != .latentSDE, let method, Tableau.named(method) == nil {
            throw ValidationError("--method \(method) is not a known solver; use \(Tableau.names.joined(separator: ", "))")
        }
        if data == "spirals" {
            do { try dataSpec.spirals.validate() } catch { throw ValidationError("\(error)") }
            guard testSeries >= 1 else { throw ValidationError("--test-series must be ≥ 1, got \(testSeries)") }
        } else if !data.lowercased().hasSuffix(".csv") {
            throw ValidationError("--data '\(data)': expected spirals or a .csv file of series (series_id,time,feature_1,…)")
        }
        guard observedFraction > 0, observedFraction <= 1 else {
            throw ValidationError("--observed-fraction must be in (0, 1], got \(observedFraction)")
        }
        do {
            try modelConfiguration.validate()
            try LatentTrainingOptions(iterations: iters, batchSize: batch, learningRate: lr, seed: seed, checkpointEvery: checkpointEvery).validate()
        } catch { throw ValidationError("\(error)") }
        try requireWritableDirectory(out, flag: "--out")
    }

    func run() throws {
        runtime.apply()
        SignalFlag.install()
        if kind != .latentSDE, method != nil { note("--method is deprecated; it is called --solver now") }
        let parallel: DataParallel<Float> = try distributed.dataParallel()
        let spec = dataSpec
        let (train, test, _, dataNote) = try spec.load()
        if let dataNote { note(dataNote) }
        var configuration = modelConfiguration
        configuration.features = train[0].observed.featureCount
        let net = try makeSeriesModel(configuration, seed: seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata = [
            "model": "latent",
            "configuration": String(decoding: try encoder.encode(configuration), as: UTF8.self),
            "data": String(decoding: try encoder.encode(spec), as: UTF8.self),
        ]
        let trainer = try LatentTrainer(
            model: net,
            options: LatentTrainingOptions(iterations: iters, batchSize: batch, learningRate: lr, seed: seed, checkpointEvery: checkpointEvery),
            data: train, directory: URL(fileURLWithPath: out), metadata: metadata, parallel: parallel)
        try trainer.start(resume: resume)
        let parameters = net.parameters.reduce(0) { $0 + $1.count }
        note("laminar latent train: \(model)\(poisson ? " + Poisson process" : "") (\(parameters) parameters) on \(train.count) series, \(iters) iterations")
        let bar = ProgressBar(total: iters, startIteration: trainer.iteration, logEvery: 50)
        do {
            try trainer.train(shouldStop: { SignalFlag.isSet }) { r in
                var fields = [("loss", String(format: "%.3f", r.loss))]
                if kind != .rnn { fields.append(("KL", String(format: "%.2f", r.kl))) }
                if poisson { fields.append(("poisson", String(format: "%.2f", r.poisson))) }
                if kind != .rnn { fields.append(("NFE", "\(r.nfe_forward)/\(r.nfe_backward)")) }
                bar.update(iteration: r.iteration, fields: fields)
            }
        } catch {
            bar.finish()
            throw error
        }
        bar.finish()
        SignalFlag.installImmediate()  // the checkpoint is written; the scoring below stops at once
        guard parallel.isRoot else { return }  // evaluation and summary: rank 0
        let records = try LatentRecord.read(from: trainer.metricsURL)
        let seconds = records.reduce(0) { $0 + $1.seconds }
        let scores = try evaluateSeries(net, on: test)
        print(String(format: "interpolation RMSE: %.4f  extrapolation RMSE: %.4f  (%d test series)", scores.interpolationRMSE, scores.extrapolationRMSE, scores.series))
        print(String(format: "training: %.0f s, %.3f s/iteration", seconds, seconds / Double(max(1, records.count))))
        let summary = LatentRunSummary(
            model: model, poisson: poisson, points: spec.isSpirals ? points : nil, parameters: parameters, iterations: iters,
            trainSeconds: seconds, scores: scores)
        let summaryEncoder = JSONEncoder()
        summaryEncoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let summaryURL = URL(fileURLWithPath: out).appendingPathComponent("summary.json")
        try AtomicFile.write(Array(try summaryEncoder.encode(summary)), to: summaryURL)
        note("checkpoint: \(trainer.checkpointURL.path); summary: \(summaryURL.path)")
    }
}

/// What `laminar latent train` measured (`summary.json`, the source of the README's table).
struct LatentRunSummary: Codable {
    var model: String
    var poisson: Bool
    var points: Int?
    var parameters: Int
    var iterations: Int
    var trainSeconds: Double
    var scores: SeriesScores
}

struct LatentEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Interpolation and extrapolation RMSE of a trained latent model on its test series.")

    @Option(help: "Checkpoint written by laminar latent train.")
    var checkpoint: String
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        let run = try LoadedLatentRun(checkpoint: checkpoint)
        let (_, test, _, dataNote) = try run.data.load()
        if let dataNote { note(dataNote) }
        let start = Date()
        let scores = try evaluateSeries(run.model, on: test)
        print(String(format: "interpolation RMSE: %.4f", scores.interpolationRMSE))
        print(String(format: "extrapolation RMSE: %.4f", scores.extrapolationRMSE))
        if run.configuration.kind == .latentSDE {
            let elbo = try evidenceLowerBound(run.model, on: test)
            print(String(format: "test ELBO: %.3f nats per series (a lower bound on the log-likelihood, %d samples)", elbo.mean, elbo.samples))
        }
        print(String(format: "series: %d  model: %@  iteration: %d  time: %.2f s", scores.series, run.configuration.kind.rawValue, run.iteration, Date().timeIntervalSince(start)))
    }
}

struct LatentPlot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Per test series: the true trajectory, the observations, the model's reconstruction and its extrapolation.")

    @Option(help: "Checkpoint written by laminar latent train.")
    var checkpoint: String
    @Option(help: "Output PNG.")
    var out: String = "spirals.png"
    @Option(help: "Number of series to draw.")
    var n: Int = 6
    @Option(help: "latent-sde: posterior sample paths drawn per series.")
    var samples: Int = 8
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard (1...64).contains(n) else { throw ValidationError("--n must be in 1…64, got \(n)") }
        guard (0...64).contains(samples) else { throw ValidationError("--samples must be in 0…64, got \(samples)") }
        try requireWritableParent(of: out, flag: "--out")
    }

    func run() throws {
        runtime.apply()
        let run = try LoadedLatentRun(checkpoint: checkpoint)
        let (_, test, spirals, _) = try run.data.load()
        let chosen = Array(test.prefix(n))
        let image = try LatentPictures.panels(model: run.model, examples: chosen, spirals: spirals, samplePaths: samples)
        try PNG.write(image, to: out)
        note("wrote \(out)")
    }
}
