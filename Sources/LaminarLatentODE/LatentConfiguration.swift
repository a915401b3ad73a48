import Foundation
import LaminarODE
import LaminarSDE

/// The time-series models of `laminar latent`.
public enum LatentModelKind: String, Codable, Sendable, CaseIterable {
    /// Latent ODE with a GRU recognition network run backwards in time (Chen et al. 2018, §5).
    case latentODE = "latent-ode"
    /// Latent ODE whose recognition network is an ODE-RNN: the GRU's hidden state follows an
    /// ODE between observations (Rubanova et al. 2019).
    case odeRNN = "odernn"
    /// The baseline: a GRU fed observations and time gaps, predicting the next observation.
    case rnn
    /// Latent SDE (Li, Wong, Chen & Duvenaud 2020, §5): posterior and prior drifts with a
    /// shared diagonal diffusion, trained on the ELBO with the path-space KL term.
    case latentSDE = "latent-sde"

    /// Accepted names, for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Errors of the latent models and their training.
public enum LatentError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case diverged(iteration: Int)
    case interrupted(iteration: Int)
    case resumeMismatch(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let s): return s
        case .diverged(let i): return "training diverged at iteration \(i): the loss or a gradient is not finite"
        case .interrupted(let i): return "interrupted at iteration \(i); checkpoint written, continue with --resume"
        case .resumeMismatch(let s): return s
        }
    }
}

/// Architecture and solver settings of a latent time-series model (stored in checkpoints).
public struct LatentConfiguration: Codable, Sendable, Equatable {
    public var kind: LatentModelKind
    /// Observation features (D).
    public var features: Int
    /// Latent dimension (the paper's spiral experiment: 4).
    public var latent: Int
    /// Width of the latent dynamics, decoder and prediction head (the paper: 20).
    public var hidden: Int
    /// Hidden units of the recognition GRU / the baseline GRU (the paper: 25).
    public var rnnHidden: Int
    /// Standard deviation of the Gaussian observation model.
    public var observationStd: Double
    /// Also model the observation times as a Poisson process with intensity λ(z(t)).
    public var poisson: Bool
    /// Solver of the latent trajectory (and of the ODE-RNN encoder).
    public var method: String
    public var rtol: Double
    public var atol: Double
    /// `adjoint`, `backprop` or `checkpointed` (latent SDE: `backprop` or `adjoint`).
    public var gradient: String
    /// Latent SDE: the fixed step of the SDE scheme (`method` then names an SDE scheme);
    /// nil elsewhere.
    public var sdeStep: Double?

    public init(
        kind: LatentModelKind = .latentODE, features: Int = 2, latent: Int = 4, hidden: Int = 20, rnnHidden: Int = 25,
        observationStd: Double = 0.3, poisson: Bool = false, method: String = "dopri5", rtol: Double = 1e-5,
        atol: Double = 1e-5, gradient: String = "backprop", sdeStep: Double? = nil
    ) {
        self.sdeStep = sdeStep
        self.kind = kind
        self.features = features
        self.latent = latent
        self.hidden = hidden
        self.rnnHidden = rnnHidden
        self.observationStd = observationStd
        self.poisson = poisson
        self.method = method
        self.rtol = rtol
        self.atol = atol
        self.gradient = gradient
    }

    public func validate() throws {
        func fail(_ s: String) -> LatentError { .invalidConfiguration(s) }
        guard features >= 1 else { throw fail("the data must have at least one feature") }
        guard latent >= 1, latent <= 4096 else { throw fail("--latent must be in 1…4096, got \(latent)") }
        guard hidden >= 1, hidden <= 65536 else { throw fail("--hidden must be in 1…65536, got \(hidden)") }
        guard rnnHidden >= 1, rnnHidden <= 65536 else { throw fail("--rnn-hidden must be in 1…65536, got \(rnnHidden)") }
        guard observationStd > 0, observationStd.isFinite else {
            throw fail("--obs-std must be a positive number, got \(observationStd)")
        }
        if kind == .latentSDE {
            guard let scheme = SDEScheme.named(method) else {
                throw fail("--method \(method) is not an SDE scheme; use \(SDEScheme.all.map(\.name).joined(separator: ", "))")
            }
            guard let step = sdeStep, step > 0, step.isFinite else {
                throw fail("--sde-step must be a positive number, got \(sdeStep.map { "\($0)" } ?? "none")")
            }
            guard let g = SDEGradientMethod(rawValue: gradient) else {
                throw fail("--gradient \(gradient): a latent SDE takes backprop or adjoint")
            }
            if g == .adjoint && scheme.calculus != .stratonovich {
                throw fail("--gradient adjoint needs a Stratonovich scheme (heun or midpoint), not \(method)")
            }
            if scheme.kind == .milstein { throw fail("--method \(method): the latent SDE takes euler, heun or midpoint") }
            if poisson { throw fail("--poisson needs a latent ODE model (latent-ode or odernn), not latent-sde") }
            return
        }
        guard Tableau.named(method) != nil else { throw fail("--method \(method) is not a known solver") }
        guard rtol > 0, atol > 0 else { throw fail("--rtol and --atol must be positive") }
        guard GradientMethod(name: gradient) != nil else {
            throw fail("--gradient \(gradient): expected adjoint, backprop or checkpointed")
        }
        if poisson && kind == .rnn { throw fail("--poisson needs a latent ODE model (latent-ode or odernn), not rnn") }
    }

    var odeOptions: ODEOptions { ODEOptions(method: Tableau.named(method) ?? .dopri5, rtol: rtol, atol: atol) }
    var gradientMethod: GradientMethod { GradientMethod(name: gradient) ?? .adjoint }
}
