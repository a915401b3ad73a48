import ArgumentParser
import Laminar

/// Flags that define an FFJORD model (shared by `train` and anything that builds a model).
struct ModelOptions: ParsableArguments {
    @Option(help: "Model: ffjord.")
    var model: String = "ffjord"

    @Option(help: "Hidden widths of the dynamics network, e.g. 64-64-64.")
    var hidden: String = "64-64-64"

    @Option(name: .customLong("layer-type"), help: "Time conditioning: concatsquash, concat, ignore.")
    var layerType: String = "concatsquash"

    @Option(help: "Nonlinearity: tanh, softplus, elu, swish.")
    var activation: String = "tanh"

    @Option(help: "Number of stacked CNF blocks.")
    var blocks: Int = 1

    @Option(name: .customLong("time-length"), help: "Integration length T of each block.")
    var timeLength: Double = 0.5

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
        guard model == "ffjord" else {
            throw ValidationError("--model '\(model)' is not available; use ffjord")
        }
        do {
            try configuration(dimension: 2).validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func configuration(dimension: Int) throws -> FFJORDConfiguration {
        let widths: [Int]
        do { widths = try parseHiddenDims(hidden) } catch { throw ValidationError("--hidden: \(error)") }
        return FFJORDConfiguration(
            dimension: dimension, hidden: widths, layerType: layerType, activation: activation, blocks: blocks,
            timeLength: timeLength, trainTime: trainTime, trace: trace.map(normalizedTrace), method: solver,
            rtol: rtol, atol: atol, gradient: gradient, kineticWeight: kinetic, jacobianWeight: jacobian)
    }

    private func normalizedTrace(_ s: String) -> String {
        TraceEstimator(name: s)?.name ?? s
    }
}
