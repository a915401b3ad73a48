import ArgumentParser
import Laminar

/// Flags that define a model (shared by `train` and anything that builds a model).
struct ModelOptions: ParsableArguments {
    /// Names `--model` accepts: the stored names plus the image aliases.
    static let commandLineNames = ["ffjord", "planar", "planar-cnf", "realnvp", "ffjord-multiscale", "ffjord-mlp", "unet", "resflow"]

    @Option(help: "Model: ffjord (default), planar, planar-cnf, realnvp, resflow (residual flow); for images ffjord-multiscale, ffjord-mlp, unet (a CNF with a U-Net field; --hidden gives its channels per resolution, default 32-64-64), realnvp (plain ffjord and realnvp pick the image architecture on image data).")
    var model: String?

    @Option(help: "Hidden widths of the dynamics network (FFJORD; channels for image models) or of each coupling network (Real NVP), e.g. 64-64-64. Default 64-64-64; images: 32-32 (conv), 512-512 (ffjord-mlp).")
    var hidden: String?

    @Option(help: "Image models: number of scales (squeeze + factor-out between them; default 2).")
    var scales: Int?

    @Option(help: "FFJORD dynamics: mlp, or hollow (HollowNet: exact divergence in one extra pass; --hidden counts units per dimension; trains with --trace exact).")
    var field: String?

    @Option(help: "Planar flow: number of layers K; residual flow: number of residual blocks K (default 8).")
    var depth: Int?

    @Option(help: "Planar CNF: number of hidden units M (default 8).")
    var width: Int?

    @Option(help: "Real NVP: number of affine coupling layers (default 8); images: checkerboard couplings per stage (default 3).")
    var couplings: Int?

    @Flag(inversion: .prefixedNo, help: "Real NVP: actnorm before every coupling (initialised from the first batch; default off).")
    var actnorm: Bool?

    @Flag(inversion: .prefixedNo, help: "FFJORD: residual dynamics net(t, z) − z (default off).")
    var residual: Bool?

    @Option(name: .customLong("layer-type"), help: "Time conditioning: concatsquash (default), concat, ignore.")
    var layerType: String?

    @Option(help: "Nonlinearity: tanh, softplus, elu, swish (default tanh; image CNFs softplus).")
    var activation: String?

    @Option(help: "Number of stacked CNF blocks (multiscale FFJORD: blocks before and after each squeeze; default 1).")
    var blocks: Int?

    @Option(name: .customLong("time-length"), help: "Integration length T of each block (default 0.5 for FFJORD, 1 for the planar CNF and image CNFs).")
    var timeLength: Double?

    @Flag(inversion: .prefixedNo, help: "Learn T (FFJORD's train_T; default on).")
    var trainTime: Bool?

    @Option(help: "Trace estimator for training: exact, hutchinson-gaussian (or hutchinson), hutchinson-rademacher. Default: exact for d ≤ 8 and for the hollow field, else hutchinson-gaussian; images hutchinson-rademacher. Residual flows: exact or hutchinson (Gaussian probes).")
    var trace: String?

    @OptionGroup var solve: SolverOptions

    @Option(help: "Kinetic-energy regularization weight λ_K (Finlay et al. 2020; default 0).")
    var kinetic: Double?

    @Option(help: "Jacobian Frobenius-norm regularization weight λ_J (default 0).")
    var jacobian: Double?

    @Option(help: "Residual flow: Lipschitz bound c < 1 of every spectrally normalised layer.")
    var lipschitz: Double = 0.98

    @Option(help: "Residual flow: training log-determinant: unbiased (Russian roulette), truncated, exact (LU, small d).")
    var logdet: String = "unbiased"

    @Option(help: "Residual flow: power-series terms always computed (unbiased) or kept (truncated).")
    var terms: Int = 2

    @Option(name: .customLong("power-iterations"), help: "Residual flow: spectral-norm power iterations per training step.")
    var powerIterations: Int = 1

    @Option(name: .customLong("inverse-tol"), help: "Residual flow: fixed-point inversion tolerance.")
    var inverseTolerance: Double = 1e-5

    @Option(name: .customLong("inverse-iterations"), help: "Residual flow: fixed-point iteration limit.")
    var inverseIterations: Int = 2_000

    /// The model name, `ffjord` unless given.
    var modelName: String { model ?? "ffjord" }

    func validate() throws {
        guard Self.commandLineNames.contains(modelName) else {
            throw ValidationError("--model '\(modelName)' is unknown; use one of \(Self.commandLineNames.joined(separator: ", "))")
        }
        if let scales, scales < 1 { throw ValidationError("--scales must be ≥ 1, got \(scales)") }
        if let trace, TraceEstimator(name: trace) == nil {
            throw ValidationError("--trace '\(trace)' is unknown; use exact, hutchinson-gaussian (or hutchinson) or hutchinson-rademacher")
        }
        if let field {
            guard FFJORDConfiguration.fieldNames.contains(field) else {
                throw ValidationError("--field '\(field)' is unknown; use \(FFJORDConfiguration.fieldNames.joined(separator: " or "))")
            }
            guard modelName == "ffjord" || modelName == "ffjord-mlp" else {
                throw ValidationError("--field applies to --model ffjord (or ffjord-mlp on images), not \(modelName)")
            }
        }
        do {
            try spec(dimension: imageOnly ? 16 : 2, image: imageOnly ? (1, 4, 4) : nil).validate()
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Models that only make sense on images.
    var imageOnly: Bool { modelName == "ffjord-multiscale" || modelName == "ffjord-mlp" || modelName == "unet" }

    /// The solve settings of continuous models without flags: FFJORD's toy defaults (dopri5 at
    /// 1e-5, adjoint); image data 1e-3 (what the image results used).
    static func solveDefaults(images: Bool) -> SolveSettings {
        images ? SolveSettings(rtol: 1e-3, atol: 1e-3) : SolveSettings()
    }

    /// The model these flags describe, for data of `dimension`; `image` is `(C, H, W)` for
    /// image data (then `ffjord`/`realnvp` mean the image architectures).
    func spec(dimension: Int, image: (Int, Int, Int)? = nil) throws -> ModelSpec {
        func widths(_ fallback: String) throws -> [Int] {
            do { return try parseHiddenDims(hidden ?? fallback) } catch { throw ValidationError("--hidden: \(error)") }
        }
        guard imageOnly == false || image != nil else {
            throw ValidationError("--model \(modelName) needs image data (--data fashion-mnist, mnist or an IDX directory)")
        }
        let settings = solve.settings(defaults: Self.solveDefaults(images: image != nil))
        let (kinetic, jacobian) = (self.kinetic ?? 0, self.jacobian ?? 0)
        let (blocks, trainTime) = (self.blocks ?? 1, self.trainTime ?? true)
        if let (c, h, w) = image {
            switch modelName {
            case "ffjord" where field == "hollow", "ffjord-multiscale" where field == "hollow":
                throw ValidationError("--field hollow is a flat (per-pixel) field; on images use --model ffjord-mlp --field hollow")
            case "ffjord", "ffjord-multiscale":
                return .multiscaleCNF(MultiscaleCNFConfiguration(
                    channels: c, height: h, width: w, scales: scales ?? 2, blocksPerScale: blocks, hidden: try widths("32-32"),
                    activation: try imageActivation(), trace: trace.map(normalizedTrace) ?? "hutchinson-rademacher",
                    timeLength: timeLength ?? 1, trainTime: trainTime, solve: settings,
                    kineticWeight: kinetic, jacobianWeight: jacobian))
            case "ffjord-mlp":
                return .ffjord(FFJORDConfiguration(
                    dimension: dimension, hidden: try widths("512-512"), layerType: layerType ?? "concatsquash",
                    activation: activation ?? "softplus", residual: residual ?? false, blocks: blocks,
                    timeLength: timeLength ?? 1, trainTime: trainTime,
                    trace: trace.map(normalizedTrace) ?? (field == "hollow" ? "exact" : "hutchinson-rademacher"), solve: settings,
                    kineticWeight: kinetic, jacobianWeight: jacobian, field: field ?? "mlp"))
            case "unet":
                return .unetCNF(UNetCNFConfiguration(
                    channels: c, height: h, width: w, hidden: try widths("32-64-64"),
                    trace: trace.map(normalizedTrace) ?? "hutchinson-rademacher", timeLength: timeLength ?? 1,
                    solve: settings))
            case "realnvp":
                return .imageRealNVP(ImageRealNVPConfiguration(
                    channels: c, height: h, width: w, scales: scales ?? 2, couplingsPerStage: couplings ?? 3,
                    hidden: try widths("32-32")))
            default: break
            }
        }
        if modelName == "resflow" {
            return .residualFlow(ResidualFlowConfiguration(
                dimension: dimension, depth: depth ?? 8, hidden: try widths(image == nil ? "64-64" : "256-256"),
                lipschitz: lipschitz, powerIterations: powerIterations, logDeterminant: logdet, terms: terms,
                trace: trace.map { ["hutchinson", "hutchinson-gaussian", "gaussian"].contains($0) ? "hutchinson" : $0 },
                inverseTolerance: inverseTolerance, inverseIterations: inverseIterations))
        }
        let widths = try widths("64-64-64")
        switch modelName {
        case "planar":
            return .planar(PlanarFlowConfiguration(dimension: dimension, depth: depth ?? 8))
        case "planar-cnf":
            return .planarCNF(PlanarCNFConfiguration(
                dimension: dimension, width: width ?? 8, timeLength: timeLength ?? 1, solve: settings))
        case "realnvp":
            return .realNVP(RealNVPConfiguration(
                dimension: dimension, couplings: couplings ?? 8, hidden: widths, actnorm: actnorm ?? false))
        default:
            return .ffjord(FFJORDConfiguration(
                dimension: dimension, hidden: widths, layerType: layerType ?? "concatsquash", activation: activation ?? "tanh",
                residual: residual ?? false, blocks: blocks, timeLength: timeLength ?? 0.5, trainTime: trainTime,
                trace: trace.map(normalizedTrace), solve: settings, kineticWeight: kinetic, jacobianWeight: jacobian,
                field: field ?? "mlp"))
        }
    }

    private func imageActivation() throws -> Activation {
        guard let a = Activation(name: activation ?? "softplus") else {
            throw ValidationError("--activation '\(activation ?? "")' is unknown; use one of \(Activation.allNames.joined(separator: ", "))")
        }
        return a
    }

    private func normalizedTrace(_ s: String) -> String {
        TraceEstimator(name: s)?.name ?? s
    }

    /// The model flags given on the command line (their values in a configuration:
    /// ``ModelSpec/value(ofFlag:)``), for comparison with a checkpoint.
    var givenFlags: [String] {
        var flags: [String] = []
        if model != nil { flags.append("--model") }
        if hidden != nil { flags.append("--hidden") }
        if scales != nil { flags.append("--scales") }
        if field != nil { flags.append("--field") }
        if depth != nil { flags.append("--depth") }
        if width != nil { flags.append("--width") }
        if couplings != nil { flags.append("--couplings") }
        if actnorm != nil { flags.append("--actnorm") }
        if residual != nil { flags.append("--residual") }
        if layerType != nil { flags.append("--layer-type") }
        if activation != nil { flags.append("--activation") }
        if blocks != nil { flags.append("--blocks") }
        if timeLength != nil { flags.append("--time-length") }
        if trainTime != nil { flags.append("--train-time") }
        if trace != nil { flags.append("--trace") }
        flags += solve.given.map(\.flag)
        if kinetic != nil { flags.append("--kinetic") }
        if jacobian != nil { flags.append("--jacobian") }
        return flags
    }
}

extension ModelSpec {
    /// The value a model flag sets in this configuration, as text (`--hidden` → `64-64-64`);
    /// nil when the flag does not apply to this model.
    func value(ofFlag flag: String) -> String? {
        func dims(_ d: [Int]) -> String { d.map(String.init).joined(separator: "-") }
        switch (flag, self) {
        case ("--model", _): return name
        case ("--hidden", .ffjord(let c)): return dims(c.hidden)
        case ("--hidden", .realNVP(let c)): return dims(c.hidden)
        case ("--hidden", .multiscaleCNF(let c)): return dims(c.hidden)
        case ("--hidden", .imageRealNVP(let c)): return dims(c.hidden)
        case ("--scales", .multiscaleCNF(let c)): return "\(c.scales)"
        case ("--scales", .imageRealNVP(let c)): return "\(c.scales)"
        case ("--field", .ffjord(let c)): return c.field
        case ("--hidden", .residualFlow(let c)): return dims(c.hidden)
        case ("--hidden", .unetCNF(let c)): return dims(c.hidden)
        case ("--depth", .residualFlow(let c)): return "\(c.depth)"
        case ("--trace", .residualFlow(let c)): return c.trace
        case ("--trace", .unetCNF(let c)): return c.trace
        case ("--time-length", .unetCNF(let c)): return "\(c.timeLength)"
        case ("--depth", .planar(let c)): return "\(c.depth)"
        case ("--width", .planarCNF(let c)): return "\(c.width)"
        case ("--couplings", .realNVP(let c)): return "\(c.couplings)"
        case ("--couplings", .imageRealNVP(let c)): return "\(c.couplingsPerStage)"
        case ("--actnorm", .realNVP(let c)): return "\(c.actnorm)"
        case ("--residual", .ffjord(let c)): return "\(c.residual)"
        case ("--layer-type", .ffjord(let c)): return c.layerType
        case ("--activation", .ffjord(let c)): return c.activation
        case ("--activation", .multiscaleCNF(let c)): return c.activation.rawValue
        case ("--blocks", .ffjord(let c)): return "\(c.blocks)"
        case ("--blocks", .multiscaleCNF(let c)): return "\(c.blocksPerScale)"
        case ("--time-length", .ffjord(let c)): return "\(c.timeLength)"
        case ("--time-length", .planarCNF(let c)): return "\(c.timeLength)"
        case ("--time-length", .multiscaleCNF(let c)): return "\(c.timeLength)"
        case ("--train-time", .ffjord(let c)): return "\(c.trainTime)"
        case ("--train-time", .multiscaleCNF(let c)): return "\(c.trainTime)"
        case ("--trace", .ffjord(let c)): return c.trace
        case ("--trace", .multiscaleCNF(let c)): return c.trace
        case ("--kinetic", .ffjord(let c)): return "\(c.kineticWeight)"
        case ("--kinetic", .multiscaleCNF(let c)): return "\(c.kineticWeight)"
        case ("--jacobian", .ffjord(let c)): return "\(c.jacobianWeight)"
        case ("--jacobian", .multiscaleCNF(let c)): return "\(c.jacobianWeight)"
        default: break
        }
        guard let s = solveSettings else { return nil }
        switch flag {
        case "--solver": return s.method.name
        case "--rtol": return "\(s.rtol)"
        case "--atol": return "\(s.atol)"
        case "--gradient": return s.gradient.name
        case "--step-size": return s.stepSize.map { "\($0)" }
        default: return nil
        }
    }

    /// The solve settings of continuous models; nil for discrete flows.
    var solveSettings: SolveSettings? {
        switch self {
        case .ffjord(let c): return c.solve
        case .planarCNF(let c): return c.solve
        case .multiscaleCNF(let c): return c.solve
        case .unetCNF(let c): return c.solve
        default: return nil
        }
    }
}
