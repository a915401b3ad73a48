import LaminarODE

/// Statistics of the backward pass through an SDE solve, filled in once gradients are taken.
public final class SDEBackwardStats: @unchecked Sendable {
    /// Steps and evaluations of the backward solve (the adjoint's; zero for backprop).
    public internal(set) var stats = SDEStats()
    /// Set when the backward solve failed (its gradients are then NaN).
    public internal(set) var failure: String?
    /// Empty statistics, filled in by the backward pass.
    public init() {}
}

/// The result of a differentiable SDE solve.
public struct SDEIntResult<Scalar: TensorScalar> {
    /// The state at every output time (`states[0]` is `x0`).
    public var states: [Variable<Scalar>]
    /// Steps and evaluations of the forward solve.
    public var stats: SDEStats
    /// Statistics of the backward pass, filled in once gradients have been taken.
    public var backwardStats: SDEBackwardStats
    /// The state at the last output time.
    public var final: Variable<Scalar> { states[states.count - 1] }
}

/// Solves `dX = f(t, X) dt + g(t, X) dW` (the SDE's calculus) from `x0` at `times[0]` on the
/// sample path `brownian` and returns the state at every time in `times`. The result is part of
/// the graph: gradients with respect to `x0` and `sde.parameters` flow by `gradient`.
///
/// - Parameters:
///   - brownian: a path over (at least) the solve's span whose ``BrownianMotion/shape`` is
///     ``SDEDynamics/brownianShape(for:)`` of `x0`; the same object and seed give the same
///     sample path, so finite differences and the adjoint's backward solve see the same noise.
///   - gradient: `.backprop` (exact gradient of the computed path) or `.adjoint` (Stratonovich
///     SDEs with the heun or midpoint scheme).
/// - Throws: ``SDEError``.
public func sdeint<D: SDEDynamics>(
    _ sde: D, _ x0: Variable<D.Scalar>, times: [Double], brownian: any BrownianMotion,
    options: SDEOptions, gradient: SDEGradientMethod = .backprop
) throws -> SDEIntResult<D.Scalar> {
    try validate(sde, x0.shape, brownian: brownian, options: options, gradient: gradient)
    let needsGraph = GradientMode.isRecording
        && (x0.requiresGradient || sde.parameters.contains { $0.requiresGradient })
    guard needsGraph else {
        let solution = try withoutGradient { try solveValues(sde, x0.value, times: times, brownian: brownian, options: options) }
        return SDEIntResult(states: solution.states.map { Variable($0) }, stats: solution.stats, backwardStats: SDEBackwardStats())
    }
    switch gradient {
    case .backprop: return try solveBackprop(sde, x0, times: times, brownian: brownian, options: options)
    case .adjoint: return try solveStochasticAdjoint(sde, x0, times: times, brownian: brownian, options: options)
    }
}

func validate<D: SDEDynamics>(
    _ sde: D, _ shape: [Int], brownian: any BrownianMotion, options: SDEOptions, gradient: SDEGradientMethod
) throws {
    guard options.scheme.calculus == sde.calculus else {
        throw SDEError.calculusMismatch(scheme: options.scheme.name, sde: sde.calculus)
    }
    if options.scheme.kind == .milstein && sde.noiseType != .diagonal {
        throw SDEError.unsupported("the Milstein scheme needs diagonal noise; use euler (Itô) or heun/midpoint (Stratonovich)")
    }
    let expected = sde.brownianShape(for: shape)
    guard brownian.shape == expected else {
        throw SDEError.shapeMismatch("the Brownian motion has shape \(brownian.shape); a state of shape \(shape) needs \(expected)")
    }
    if gradient == .adjoint {
        guard sde.calculus == .stratonovich, case .rungeKutta = options.scheme.kind else {
            throw SDEError.unsupported("the stochastic adjoint solves the Stratonovich adjoint SDE: write the SDE in Stratonovich form and use the heun or midpoint scheme (or use backprop)")
        }
    }
}

/// The time as a rank-0 constant.
@inline(__always) func timeVariable<S: TensorScalar>(_ t: Double) -> Variable<S> { Variable(Tensor(S(t))) }

/// A forward solve on tensors, no graph recorded.
func solveValues<D: SDEDynamics>(
    _ sde: D, _ x0: Tensor<D.Scalar>, times: [Double], brownian: any BrownianMotion, options: SDEOptions
) throws -> SDESolution<Tensor<D.Scalar>> {
    typealias S = D.Scalar
    let shape = brownian.shape
    func noiseTensor(_ v: [Double]) -> Variable<S> { Variable(Tensor(shape: shape, scalars: v.map { S($0) })) }
    return try integrateSDE(
        drift: { t, x in sde.drift(timeVariable(t), Variable(x)).value },
        noise: { t, x, v in sde.applyDiffusion(sde.diffusion(timeVariable(t), Variable(x)), noiseTensor(v)).value },
        field: { t, x, v in sde.field(timeVariable(t), Variable(x), noiseTensor(v)).value },
        y0: x0, times: times, brownian: brownian, options: options)
}
