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

    /// What went wrong, in one line.
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
    /// Which model: latent ODE, ODE-RNN encoder, GRU baseline or latent SDE.
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
    /// Solver, tolerances and gradient mode of the latent trajectory (and of the ODE-RNN
    /// encoder); by default dopri5 at 1e-5 with backpropagation through the solver. Not used by
    /// the latent SDE, whose solves take the `sde…` settings.
    public var solve: SolveSettings
    /// Latent SDE: the SDE scheme (`euler`, `heun`, `midpoint`; the CLI's `--method`).
    public var sdeScheme: String
    /// Latent SDE: the fixed step of the SDE scheme; nil elsewhere.
    public var sdeStep: Double?
    /// Latent SDE: the gradient through the SDE solves, `backprop` or `adjoint` (the stochastic
    /// adjoint; the CLI's `--gradient`).
    public var sdeGradient: String

    /// Settings of a `kind` model; the defaults are the paper's spiral experiment (latent 4, hidden 20, GRU 25, σ 0.3).
    public init(
        kind: LatentModelKind = .latentODE, features: Int = 2, latent: Int = 4, hidden: Int = 20, rnnHidden: Int = 25,
        observationStd: Double = 0.3, poisson: Bool = false, solve: SolveSettings = SolveSettings(gradient: .backprop),
        sdeScheme: String = "midpoint", sdeStep: Double? = nil, sdeGradient: String = "backprop"
    ) {
        self.sdeScheme = sdeScheme
        self.sdeStep = sdeStep
        self.sdeGradient = sdeGradient
        self.kind = kind
        self.features = features
        self.latent = latent
        self.hidden = hidden
        self.rnnHidden = rnnHidden
        self.observationStd = observationStd
        self.poisson = poisson
        self.solve = solve
    }

    enum CodingKeys: String, CodingKey {
        case kind, features, latent, hidden, rnnHidden, observationStd, poisson
        case sdeScheme, sdeStep, sdeGradient, method, gradient
    }

    /// Decodes the JSON of a checkpoint; the solve settings are flat keys of the same object.
    /// A latent SDE's settings are `sdeScheme`, `sdeStep` and `sdeGradient`; checkpoints that
    /// named the scheme and its gradient in `method` and `gradient` decode too.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(LatentModelKind.self, forKey: .kind)
        var solve: SolveSettings
        var sdeScheme = try c.decodeIfPresent(String.self, forKey: .sdeScheme)
        var sdeGradient = try c.decodeIfPresent(String.self, forKey: .sdeGradient)
        if kind == .latentSDE {
            solve = (try? SolveSettings(from: decoder)) ?? SolveSettings(gradient: .backprop)
            if sdeScheme == nil { sdeScheme = try c.decodeIfPresent(String.self, forKey: .method) }
            if sdeGradient == nil { sdeGradient = try c.decodeIfPresent(String.self, forKey: .gradient) }
        } else {
            solve = try SolveSettings(from: decoder)
        }
        self.init(
            kind: kind, features: try c.decode(Int.self, forKey: .features),
            latent: try c.decode(Int.self, forKey: .latent), hidden: try c.decode(Int.self, forKey: .hidden),
            rnnHidden: try c.decode(Int.self, forKey: .rnnHidden),
            observationStd: try c.decode(Double.self, forKey: .observationStd), poisson: try c.decode(Bool.self, forKey: .poisson),
            solve: solve, sdeScheme: sdeScheme ?? "midpoint", sdeStep: try c.decodeIfPresent(Double.self, forKey: .sdeStep),
            sdeGradient: sdeGradient ?? "backprop")
    }

    /// Encodes the settings for a checkpoint, the solve settings as flat keys of the same object;
    /// the `sde…` keys only for a latent SDE (`sdeStep` when set).
    public func encode(to encoder: any Encoder) throws {
        let sde: Set<String> = kind == .latentSDE ? [] : ["sdeScheme", "sdeStep", "sdeGradient"]
        try solve.encode(flatWith: self, keyedBy: CodingKeys.self, omitting: sde, to: encoder)
    }

    /// Throws ``LatentError/invalidConfiguration(_:)`` naming the first flag out of range.
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
            guard let scheme = SDEScheme.named(sdeScheme) else {
                throw fail("--method \(sdeScheme) is not an SDE scheme; use \(SDEScheme.all.map(\.name).joined(separator: ", "))")
            }
            guard let step = sdeStep, step > 0, step.isFinite else {
                throw fail("--sde-step must be a positive number, got \(sdeStep.map { "\($0)" } ?? "none")")
            }
            guard let g = SDEGradientMethod(rawValue: sdeGradient) else {
                throw fail("--gradient \(sdeGradient): a latent SDE takes backprop or adjoint")
            }
            if g == .adjoint && scheme.calculus != .stratonovich {
                throw fail("--gradient adjoint needs a Stratonovich scheme (heun or midpoint), not \(sdeScheme)")
            }
            if scheme.kind == .milstein { throw fail("--method \(sdeScheme): the latent SDE takes euler, heun or midpoint") }
            if poisson { throw fail("--poisson needs a latent ODE model (latent-ode or odernn), not latent-sde") }
            return
        }
        do { try solve.validate() } catch { throw fail("\(error)") }
        if poisson && kind == .rnn { throw fail("--poisson needs a latent ODE model (latent-ode or odernn), not rnn") }
    }

    var odeOptions: ODEOptions { solve.odeOptions }
    var gradientMethod: GradientMethod { solve.gradient }
}
