import ArgumentParser
import Laminar

/// Flags that define a model (shared by `train` and anything that builds a model).
struct ModelOptions: ParsableArguments {
    /// Names `--model` accepts: the stored names plus the image aliases.
    static let commandLineNames = ["ffjord", "planar", "planar-cnf", "realnvp", "ffjord-multiscale", "ffjord-mlp", "unet", "resflow"]

    @Option(help: "Model: ffjord, planar, planar-cnf, realnvp, resflow (residual flow); for images ffjord-multiscale, ffjord-mlp, unet (a CNF with a U-Net field; --hidden gives its channels per resolution, default 32-64-64), realnvp (plain ffjord and realnvp pick the image architecture on image data).")
    var model: String = "ffjord"

    @Option(help: "Hidden widths of the dynamics network (FFJORD; channels for image models) or of each coupling network (Real NVP), e.g. 64-64-64. Default 64-64-64; images: 32-32 (conv), 512-512 (ffjord-mlp).")
    var hidden: String?

    @Option(help: "Image models: number of scales (squeeze + factor-out between them).")
    var scales: Int = 2

    @Option(help: "FFJORD dynamics: mlp, or hollow (HollowNet: exact divergence in one extra pass; --hidden counts units per dimension; trains with --trace exact).")
    var field: String?

    @Option(help: "Planar flow: number of layers K; residual flow: number of residual blocks K.")
    var depth: Int = 8

    @Option(help: "Planar CNF: number of hidden units M.")
    var width: Int = 8

    @Option(help: "Real NVP: number of affine coupling layers (default 8); images: checkerboard couplings per stage (default 3).")
    var couplings: Int?

    @Flag(help: "Real NVP: actnorm before every coupling (initialised from the first batch).")
    var actnorm: Bool = false

    @Flag(help: "FFJORD: residual dynamics net(t, z) − z.")
    var residual: Bool = false

    @Option(name: .customLong("layer-type"), help: "Time conditioning: concatsquash, concat, ignore.")
    var layerType: String = "concatsquash"

    @Option(help: "Nonlinearity: tanh, softplus, elu, swish (default tanh; image CNFs softplus).")
    var activation: String?

    @Option(help: "Number of stacked CNF blocks (multiscale FFJORD: blocks before and after each squeeze).")
    var blocks: Int = 1

    @Option(name: .customLong("time-length"), help: "Integration length T of each block (default 0.5 for FFJORD, 1 for the planar CNF and image CNFs).")
    var timeLength: Double?

    @Flag(inversion: .prefixedNo, help: "Learn T (FFJORD's train_T).")
    var trainTime: Bool = true

    @Option(help: "Trace estimator for training: exact, hutchinson (Gaussian), hutchinson-rademacher (FFJORD). Default: exact for d ≤ 8 and for the hollow field. Residual flows: exact or hutchinson (Gaussian probes).")
    var trace: String?

    @Option(help: "Gradient method: adjoint, adjoint-full-norm, backprop, checkpointed.")
    var gradient: String = "adjoint"

    @Option(help: "ODE solver: dopri5, tsit5, bosh3, fehlberg2, dopri8, euler, midpoint, rk4.")
    var solver: String = "dopri5"

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-5

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-5

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

    @Option(help: "Kinetic-energy regularization weight λ_K (Finlay et al. 2020).")
    var kinetic: Double = 0

    @Option(help: "Jacobian Frobenius-norm regularization weight λ_J.")
    var jacobian: Double = 0

    func validate() throws {
        guard Self.commandLineNames.contains(model) else {
            throw ValidationError("--model '\(model)' is unknown; use one of \(Self.commandLineNames.joined(separator: ", "))")
        }
        guard scales >= 1 else { throw ValidationError("--scales must be ≥ 1, got \(scales)") }
        if let field {
            guard FFJORDConfiguration.fieldNames.contains(field) else {
                throw ValidationError("--field '\(field)' is unknown; use \(FFJORDConfiguration.fieldNames.joined(separator: " or "))")
            }
            guard model == "ffjord" || model == "ffjord-mlp" else {
                throw ValidationError("--field applies to --model ffjord (or ffjord-mlp on images), not \(model)")
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
    var imageOnly: Bool { model == "ffjord-multiscale" || model == "ffjord-mlp" || model == "unet" }

    /// The model these flags describe, for data of `dimension`; `image` is `(C, H, W)` for
    /// image data (then `ffjord`/`realnvp` mean the image architectures).
    func spec(dimension: Int, image: (Int, Int, Int)? = nil) throws -> ModelSpec {
        func widths(_ fallback: String) throws -> [Int] {
            do { return try parseHiddenDims(hidden ?? fallback) } catch { throw ValidationError("--hidden: \(error)") }
        }
        guard imageOnly == false || image != nil else {
            throw ValidationError("--model \(model) needs image data (--data fashion-mnist, mnist or an IDX directory)")
        }
        if let (c, h, w) = image {
            switch model {
            case "ffjord" where field == "hollow", "ffjord-multiscale" where field == "hollow":
                throw ValidationError("--field hollow is a flat (per-pixel) field; on images use --model ffjord-mlp --field hollow")
            case "ffjord", "ffjord-multiscale":
                return .multiscaleCNF(MultiscaleCNFConfiguration(
                    channels: c, height: h, width: w, scales: scales, blocksPerScale: blocks, hidden: try widths("32-32"),
                    activation: try imageActivation(), trace: trace.map(normalizedTrace) ?? "hutchinson-rademacher",
                    timeLength: timeLength ?? 1, trainTime: trainTime, method: solver, rtol: rtol, atol: atol,
                    gradient: gradient, kineticWeight: kinetic, jacobianWeight: jacobian))
            case "ffjord-mlp":
                return .ffjord(FFJORDConfiguration(
                    dimension: dimension, hidden: try widths("512-512"), layerType: layerType, activation: activation ?? "softplus",
                    residual: residual, blocks: blocks, timeLength: timeLength ?? 1, trainTime: trainTime,
                    trace: trace.map(normalizedTrace) ?? (field == "hollow" ? "exact" : "hutchinson-rademacher"), method: solver,
                    rtol: rtol, atol: atol, gradient: gradient, kineticWeight: kinetic, jacobianWeight: jacobian,
                    field: field ?? "mlp"))
            case "unet":
                return .unetCNF(UNetCNFConfiguration(
                    channels: c, height: h, width: w, hidden: try widths("32-64-64"),
                    trace: trace.map(normalizedTrace) ?? "hutchinson-rademacher", timeLength: timeLength ?? 1,
                    method: solver, rtol: rtol, atol: atol, gradient: gradient))
            case "realnvp":
                return .imageRealNVP(ImageRealNVPConfiguration(
                    channels: c, height: h, width: w, scales: scales, couplingsPerStage: couplings ?? 3, hidden: try widths("32-32")))
            default: break
            }
        }
        if model == "resflow" {
            return .residualFlow(ResidualFlowConfiguration(
                dimension: dimension, depth: depth, hidden: try widths(image == nil ? "64-64" : "256-256"),
                lipschitz: lipschitz, powerIterations: powerIterations, logDeterminant: logdet, terms: terms,
                trace: trace.map { ["hutchinson", "hutchinson-gaussian", "gaussian"].contains($0) ? "hutchinson" : $0 },
                inverseTolerance: inverseTolerance, inverseIterations: inverseIterations))
        }
        let widths = try widths("64-64-64")
        let couplings = self.couplings ?? 8
        let activation = self.activation ?? "tanh"
        switch model {
        case "planar":
            return .planar(PlanarFlowConfiguration(dimension: dimension, depth: depth))
        case "planar-cnf":
            return .planarCNF(PlanarCNFConfiguration(
                dimension: dimension, width: width, timeLength: timeLength ?? 1, method: solver, rtol: rtol, atol: atol,
                gradient: gradient))
        case "realnvp":
            return .realNVP(RealNVPConfiguration(dimension: dimension, couplings: couplings, hidden: widths, actnorm: actnorm))
        default:
            return .ffjord(FFJORDConfiguration(
                dimension: dimension, hidden: widths, layerType: layerType, activation: activation, residual: residual,
                blocks: blocks, timeLength: timeLength ?? 0.5, trainTime: trainTime, trace: trace.map(normalizedTrace),
                method: solver, rtol: rtol, atol: atol, gradient: gradient, kineticWeight: kinetic,
                jacobianWeight: jacobian, field: field ?? "mlp"))
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
}
