import ArgumentParser
import Laminar

/// Flags that define a model (shared by `train` and anything that builds a model).
struct ModelOptions: ParsableArguments {
    @Option(help: "Model: ffjord, planar, planar-cnf, realnvp.")
    var model: String = "ffjord"

    @Option(help: "Hidden widths of the dynamics network (FFJORD) or of each coupling network (Real NVP), e.g. 64-64-64.")
    var hidden: String = "64-64-64"

    @Option(help: "Planar flow: number of layers K.")
    var depth: Int = 8

    @Option(help: "Planar CNF: number of hidden units M.")
    var width: Int = 8

    @Option(help: "Real NVP: number of affine coupling layers.")
    var couplings: Int = 8

    @Flag(help: "Real NVP: actnorm before every coupling (initialised from the first batch).")
    var actnorm: Bool = false

    @Flag(help: "FFJORD: residual dynamics net(t, z) − z.")
    var residual: Bool = false

    @Option(name: .customLong("layer-type"), help: "Time conditioning: concatsquash, concat, ignore.")
    var layerType: String = "concatsquash"

    @Option(help: "Nonlinearity: tanh, softplus, elu, swish.")
    var activation: String = "tanh"

    @Option(help: "Number of stacked CNF blocks.")
    var blocks: Int = 1

    @Option(name: .customLong("time-length"), help: "Integration length T of each block (default 0.5 for FFJORD, 1 for the planar CNF).")
    var timeLength: Double?

    @Flag(inversion: .prefixedNo, help: "Learn T (FFJORD's train_T).")
    var trainTime: Bool = true

    @Option(help: "Trace estimator for training: exact, hutchinson (Gaussian), hutchinson-rademacher. Default: exact for d ≤ 8.")
    var trace: String?

    @Option(help: "Gradient method: adjoint, adjoint-full-norm, backprop, checkpointed.")
    var gradient: String = "adjoint"

    @Option(help: "ODE solver: dopri5, tsit5, bosh3, fehlberg2, dopri8, euler, midpoint, rk4.")
    var solver: String = "dopri5"

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-5

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-5

    @Option(help: "Kinetic-energy regularization weight λ_K (Finlay et al. 2020).")
    var kinetic: Double = 0

    @Option(help: "Jacobian Frobenius-norm regularization weight λ_J.")
    var jacobian: Double = 0

    func validate() throws {
        guard ModelSpec.names.contains(model) else {
            throw ValidationError("--model '\(model)' is unknown; use one of \(ModelSpec.names.joined(separator: ", "))")
        }
        do {
            try spec(dimension: 2).validate()
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The model these flags describe, for data of `dimension`.
    func spec(dimension: Int) throws -> ModelSpec {
        let widths: [Int]
        do { widths = try parseHiddenDims(hidden) } catch { throw ValidationError("--hidden: \(error)") }
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
                jacobianWeight: jacobian))
        }
    }

    private func normalizedTrace(_ s: String) -> String {
        TraceEstimator(name: s)?.name ?? s
    }
}
