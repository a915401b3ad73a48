import LaminarODE

/// Scheme and step of an SDE solve.
public struct SDEOptions: Sendable {
    /// The integration scheme; its calculus must match the SDE's.
    public var scheme: SDEScheme
    /// Largest step size (> 0). Each interval between output times is cut into the fewest
    /// equal steps no larger than this, so every output time is a step boundary.
    public var stepSize: Double
    /// Largest number of steps before ``SDEError/maxStepsExceeded(steps:)``.
    public var maxSteps: Int

    /// Options of a fixed-step solve with `scheme`, steps no larger than `stepSize` and at most `maxSteps` of them.
    public init(scheme: SDEScheme = .eulerMaruyama, stepSize: Double, maxSteps: Int = 10_000_000) {
        self.scheme = scheme
        self.stepSize = stepSize
        self.maxSteps = maxSteps
    }
}

/// Statistics of one SDE solve.
public struct SDEStats: Sendable, Equatable, CustomStringConvertible {
    /// Steps taken (all accepted: the schemes are fixed-step).
    public var steps = 0
    /// Evaluations of the drift `f` (or of its vector–Jacobian products in the adjoint's
    /// backward pass).
    public var driftEvaluations = 0
    /// Evaluations of the diffusion `g` (or of its vector–Jacobian products in the adjoint's backward pass).
    public var diffusionEvaluations = 0
    /// Brownian queries `W(t)`.
    public var brownianQueries = 0

    /// Zero counts.
    public init() {}

    /// Steps and evaluation counts on one line.
    public var description: String {
        "steps \(steps), drift evaluations \(driftEvaluations), diffusion evaluations \(diffusionEvaluations)"
    }
}

/// Failures of an SDE solve. Each description says what happened and what usually helps.
public enum SDEError: Error, CustomStringConvertible, Equatable {
    case invalidOptions(String)
    case nonFinite(t: Double)
    case maxStepsExceeded(steps: Int)
    /// The scheme converges to the other calculus than the SDE's.
    case calculusMismatch(scheme: String, sde: SDECalculus)
    case unsupported(String)
    /// A query time is outside the Brownian motion's span.
    case brownianSpan(t: Double, t0: Double, t1: Double)
    case shapeMismatch(String)

    /// What happened and what usually helps.
    public var description: String {
        switch self {
        case .invalidOptions(let s): return "invalid SDE solver options: \(s)"
        case .nonFinite(let t):
            return "the state became NaN or infinite at t = \(t); reduce the step size or check drift and diffusion"
        case .maxStepsExceeded(let n):
            return "the solve needs more than \(n) steps; increase the step size or maxSteps"
        case .calculusMismatch(let scheme, let sde):
            return "the \(scheme) scheme does not converge to the \(sde.rawValue) solution; choose a scheme of that calculus (\(SDEScheme.all.filter { $0.calculus == sde }.map(\.name).joined(separator: ", ")))"
        case .unsupported(let s): return s
        case .brownianSpan(let t, let t0, let t1):
            return "time \(t) is outside the Brownian motion's span [\(t0), \(t1)]; build it over the whole solve"
        case .shapeMismatch(let s): return s
        }
    }
}

/// How gradients flow through an SDE solve.
public enum SDEGradientMethod: String, Sendable, Equatable, Codable {
    /// Differentiate through the solver's operations: the exact gradient of the computed sample
    /// path; memory grows with the number of steps.
    case backprop
    /// The stochastic adjoint (Li, Wong, Chen & Duvenaud 2020): solve the Stratonovich adjoint
    /// SDE backwards on the same Brownian path. Memory independent of the number of steps.
    case adjoint
}
