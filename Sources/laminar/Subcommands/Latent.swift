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

    // Model and data flags are optional so that `--resume` can tell a flag given again (checked
    // against the checkpoint) from one left out (read from it).
    @Option(help: "spirals (the paper's data set, default), or a CSV file series_id,time,feature_1,… of your own series.")
    var data: String?
    @Option(help: "Model: \(LatentModelKind.names) (default latent-ode).")
    var model: String?
    @Option(help: "Spirals: training series (default 1000).")
    var series: Int?
    @Option(help: "Spirals: observations per series (1…100, at random times of the window; default 30).")
    var points: Int?
    @Option(help: "Spirals: observation noise (standard deviation; default 0.3).")
    var noise: Double?
    @Option(name: .customLong("test-series"), help: "Spirals: test series for the scores (default 100).")
    var testSeries: Int?
    @Option(name: .customLong("observed-fraction"), help: "CSV: fraction of each series' time span the encoder sees; the rest is extrapolated (default 0.5).")
    var observedFraction: Double?
    @Option(help: "Latent dimension (default 4).")
    var latent: Int?
    @Option(help: "Width of the latent dynamics, decoder and RNN head (default 20).")
    var hidden: Int?
    @Option(name: .customLong("rnn-hidden"), help: "GRU hidden units (encoder or baseline; default 25).")
    var rnnHidden: Int?
    @Option(name: .customLong("obs-std"), help: "Standard deviation of the Gaussian observation model (default 0.3).")
    var obsStd: Double?
    @Flag(inversion: .prefixedNo, help: "Also model the observation times as a Poisson process with intensity λ(z(t)) (default off).")
    var poisson: Bool?
    /// Solver flags; the default gradient is backprop: the adjoint restarts its backward solve at
    /// every observation time of the batch, so with many times backprop is several times faster.
    /// A latent SDE takes `--gradient backprop` or `adjoint` (the stochastic adjoint).
    @OptionGroup var solve: SolverOptions
    /// The old spelling of `--solver`; for `--model latent-sde` the SDE scheme.
    @Option(help: "latent-sde: the SDE scheme, euler, heun or midpoint (default). (For ODE models the old spelling of --solver.)")
    var method: String?
    @Option(name: .customLong("sde-step"), help: "latent-sde: step size of the SDE scheme (default 0.05).")
    var sdeStep: Double?
    @Option(parsing: .unconditional, help: "Training iterations (in total, counting those before a --resume).")
    var iters: Int = 2000
    @OptionGroup(title: "Training run") var loop: LoopOptions<LatentLoopDefaults>
    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup(title: "Data parallel (mpirun -np N laminar …)") var distributed: DistributedOptions

    var kind: LatentModelKind? { LatentModelKind(rawValue: model ?? "latent-ode") }

    /// The solve settings: the latent models' defaults (dopri5 at 1e-5, backprop) with the flags
    /// applied (`--method` is the old spelling of `--solver`).
    var solveSettings: SolveSettings {
        var s = solve.settings(defaults: SolveSettings(gradient: .backprop))
        if kind != .latentSDE, solve.solver == nil, let method, let tableau = Tableau.named(method) { s.method = tableau }
        return s
    }

    /// The configuration the flags describe (defaults for those not given).
    var modelConfiguration: LatentConfiguration {
        LatentConfiguration(
            kind: kind ?? .latentODE, features: 2, latent: latent ?? 4, hidden: hidden ?? 20, rnnHidden: rnnHidden ?? 25,
            observationStd: obsStd ?? 0.3, poisson: poisson ?? false, solve: solveSettings,
            // The SDE settings only for a latent SDE (elsewhere they keep their defaults, which are not stored).
            sdeScheme: kind == .latentSDE ? method ?? solve.solver?.name ?? "midpoint" : "midpoint",
            sdeStep: kind == .latentSDE ? sdeStep ?? 0.05 : nil,
            sdeGradient: kind == .latentSDE ? solve.gradient?.name ?? "backprop" : "backprop")
    }

    /// The data the flags describe.
    func dataSpec(seed: UInt64) -> LatentDataSpec {
        LatentDataSpec(
            source: data ?? "spirals",
            spirals: SpiralDataset.Settings(series: series ?? 1000, points: points ?? 30, noise: noise ?? 0.3),
            testSeries: testSeries ?? 100, observedFraction: observedFraction ?? 0.5, seed: seed)
    }

    /// `--batch`, `--lr`, `--checkpoint-every`, `--out` and `--resume` of `latent train`: the
    /// Neural ODE paper's latent ODE settings.
    enum LatentLoopDefaults: LoopDefaults {
        static let values = LoopDefaultValues(
            batch: 100, batchHelp: "Series per batch (default 100).", learningRate: 1e-2, checkpointEvery: 100, out: "runs/latent",
            resumeHelp: "The model, solver, data, --batch and --seed are read from the checkpoint (flags given again must agree); --iters may change;")
    }

    func validate() throws {
        guard kind != nil else { throw ValidationError("--model '\(model ?? "")' is unknown; use \(LatentModelKind.names)") }
        if kind != .latentSDE, let method, Tableau.named(method) == nil {
            throw ValidationError("--method \(method) is not a known solver; use \(Tableau.names.joined(separator: ", "))")
        }
        let spec = dataSpec(seed: 0)
        if spec.isSpirals {
            do { try spec.spirals.validate() } catch { throw ValidationError("\(error)") }
            guard spec.testSeries >= 1 else { throw ValidationError("--test-series must be ≥ 1, got \(spec.testSeries)") }
        } else if !spec.source.lowercased().hasSuffix(".csv") {
            throw ValidationError("--data '\(spec.source)': expected spirals or a .csv file of series (series_id,time,feature_1,…)")
        }
        guard spec.observedFraction > 0, spec.observedFraction <= 1 else {
            throw ValidationError("--observed-fraction must be in (0, 1], got \(spec.observedFraction)")
        }
        do {
            try modelConfiguration.validate()
            try (loop.options(iters, seed: 0, resumed: nil) as LatentTrainingOptions).validate()
        } catch { throw ValidationError("\(error)") }
    }

    /// On `--resume`: the stored configuration and data, after checking the flags given again.
    private func storedRun(_ stored: ResumedCheckpoint) throws -> (LatentConfiguration, LatentDataSpec) {
        let c = try stored.configuration(LatentConfiguration.self)
        stored.noteMissingSettings(["--batch"])
        guard let json = stored.metadata[RunCheckpointKey.data],
              let d = try? JSONDecoder().decode(LatentDataSpec.self, from: Data(json.utf8)) else {
            throw LaminarCLIError("cannot resume: \(stored.path) does not record its training data")
        }
        let checks: [(String, String?, String)] = [
            ("--model", model, c.kind.rawValue), ("--latent", latent.map(String.init), String(c.latent)),
            ("--hidden", hidden.map(String.init), String(c.hidden)), ("--rnn-hidden", rnnHidden.map(String.init), String(c.rnnHidden)),
            ("--obs-std", obsStd.map { "\($0)" }, "\(c.observationStd)"), ("--poisson", poisson.map { "\($0)" }, "\(c.poisson)"),
            ("--sde-step", sdeStep.map { "\($0)" }, c.sdeStep.map { "\($0)" } ?? "(none)"),
            ("--data", data, d.source), ("--series", series.map(String.init), String(d.spirals.series)),
            ("--points", points.map(String.init), String(d.spirals.points)), ("--noise", noise.map { "\($0)" }, "\(d.spirals.noise)"),
            ("--test-series", testSeries.map(String.init), String(d.testSeries)),
            ("--observed-fraction", observedFraction.map { "\($0)" }, "\(d.observedFraction)"),
            ("--batch", loop.batch.map(String.init), stored.training.map { String($0.batchSize) } ?? "(unknown)"),
            ("--seed", runtime.seed.map(String.init), String(d.seed)),
        ]
        for (flag, given, value) in checks where value != "(unknown)" { try stored.check(flag, given: given, stored: value) }
        if c.kind == .latentSDE {
            try stored.check("--method", given: method, stored: c.sdeScheme)
            try stored.check("--gradient", given: solve.gradient?.name, stored: c.sdeGradient)
        } else {
            try stored.check(solver: solve, stored: c.solve)
            try stored.check("--method", given: method, stored: c.solve.method.name)
        }
        return (c, d)
    }

    func run() throws {
        runtime.apply()
        SignalFlag.install()
        if kind != .latentSDE, method != nil { note("--method is deprecated; it is called --solver now") }
        let parallel: DataParallel<Float> = try distributed.dataParallel()
        let stored = loop.resume ? try ResumedCheckpoint(directory: loop.out, model: "latent") : nil
        let resumed = try stored.map(storedRun)
        let spec = resumed?.1 ?? dataSpec(seed: runtime.seed ?? 0)
        let seed = spec.seed
        let (train, test, _, dataNote) = try spec.load()
        if let dataNote { note(dataNote) }
        var configuration = resumed?.0 ?? modelConfiguration
        configuration.features = train[0].observed.featureCount
        let net = try makeSeriesModel(configuration, seed: seed)
        var metadata = [
            RunCheckpointKey.model: "latent", RunCheckpointKey.configuration: try jsonString(configuration),
            RunCheckpointKey.data: try jsonString(spec),
        ]
        if let stored {
            // The stored text, which may predate fields added with defaults.
            for key in [RunCheckpointKey.configuration, RunCheckpointKey.data] { metadata[key] = stored.metadata[key] }
        }
        let trainer = try LatentTrainer(
            model: net, options: loop.options(iters, seed: seed, resumed: stored?.training), data: train, directory: URL(fileURLWithPath: loop.out),
            metadata: metadata, parallel: parallel)
        try trainer.start(resume: loop.resume)
        let modelName = configuration.kind.rawValue
        let parameters = net.parameters.reduce(0) { $0 + $1.count }
        note("laminar latent train: \(modelName)\(configuration.poisson ? " + Poisson process" : "") (\(parameters) parameters) on \(train.count) series, \(iters) iterations\(loop.resume ? ", resuming at iteration \(trainer.iteration) with the checkpoint's settings" : "")")
        try trainWithProgress(trainer, logEvery: 50) { r in
            var fields = [("loss", String(format: "%.3f", r.loss))]
            if configuration.kind != .rnn { fields.append(("KL", String(format: "%.2f", r.kl))) }
            if configuration.poisson { fields.append(("poisson", String(format: "%.2f", r.poisson))) }
            if configuration.kind != .rnn { fields.append(("NFE", "\(r.nfe_forward)/\(r.nfe_backward)")) }
            return fields
        }
        SignalFlag.installImmediate()  // the checkpoint is written; the scoring below stops at once
        guard parallel.isRoot else { return }  // evaluation and summary: rank 0
        let records = try LatentRecord.read(from: trainer.metricsURL)
        let seconds = records.reduce(0) { $0 + $1.seconds }
        let scores = try evaluateSeries(net, on: test)
        print(String(format: "interpolation RMSE: %.4f  extrapolation RMSE: %.4f  (%d test series)", scores.interpolationRMSE, scores.extrapolationRMSE, scores.series))
        print(String(format: "training: %.0f s, %.3f s/iteration", seconds, seconds / Double(max(1, records.count))))
        let summary = LatentRunSummary(
            model: modelName, poisson: configuration.poisson, points: spec.isSpirals ? spec.spirals.points : nil,
            parameters: parameters, iterations: trainer.iteration, trainSeconds: seconds, scores: scores)
        try trainer.run.directory.writeSummary(summary)
        note("checkpoint: \(trainer.checkpointURL.path); summary: \(trainer.run.directory.summaryURL.path)")
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
