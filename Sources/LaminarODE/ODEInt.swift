import LaminarAutodiff

/// How gradients flow through a solve (`odeint`'s backward pass).
public enum GradientMethod: Sendable, Equatable {
    /// Differentiate through the solver's operations (discretise-then-optimise). Exact gradient
    /// of the computed solution; memory grows with the number of steps.
    case backprop
    /// The continuous adjoint (Chen et al. 2018): solve `[y, a_y, a_θ]` backwards in time.
    /// Memory is constant in the number of steps.
    case adjoint(AdjointOptions)
    /// Store every accepted forward step; in the backward pass re-run each step from its
    /// checkpoint with the graph recorded and back-propagate through that step only (the
    /// adaptive checkpoint adjoint of Zhuang et al. 2020). Gradient equal to `backprop`'s,
    /// memory linear in the number of checkpoints rather than in the graph size.
    case checkpointedAdjoint

    /// The adjoint with its default options (seminorm on, forward tolerances).
    public static var adjoint: GradientMethod { .adjoint(AdjointOptions()) }

    /// Parses `backprop`, `adjoint`, `adjoint-full-norm`, `checkpointed` (command-line values).
    public init?(name: String) {
        switch name {
        case "backprop": self = .backprop
        case "adjoint": self = .adjoint
        case "adjoint-full-norm": self = .adjoint(AdjointOptions(seminorm: false))
        case "checkpointed", "checkpointed-adjoint": self = .checkpointedAdjoint
        default: return nil
        }
    }
}

/// Options of the continuous adjoint.
public struct AdjointOptions: Sendable, Equatable {
    /// Tolerances of the backward solve; `nil` uses the forward solve's.
    public var rtol: Double?
    /// Absolute tolerance of the backward solve; `nil` uses the forward solve's.
    public var atol: Double?
    /// Exclude the parameter adjoint `a_θ` from the error norm (Kidger, Chen & Lyons 2021,
    /// "Hey, that's not an ODE"): it does not feed back into the dynamics, so its error need not
    /// control the step size. Cuts backward NFE, often by 40 % or more.
    public var seminorm: Bool

    /// Adjoint options; by default the forward tolerances and the seminorm.
    public init(rtol: Double? = nil, atol: Double? = nil, seminorm: Bool = true) {
        self.rtol = rtol
        self.atol = atol
        self.seminorm = seminorm
    }
}

/// Statistics of the backward pass, filled in when gradients are taken through a solve.
public final class BackwardStats: @unchecked Sendable {
    /// Function evaluations of the backward pass (adjoint solve, or re-run steps).
    public internal(set) var nfe = 0
    /// Accepted steps of the backward solve (or of the re-run steps).
    public internal(set) var acceptedSteps = 0
    /// Rejected steps of the backward solve.
    public internal(set) var rejectedSteps = 0
    /// Set when the backward solve failed (its gradients are then NaN, so training stops on a
    /// non-finite gradient and can report this message).
    public internal(set) var failure: String?
    /// Empty statistics, filled in by the backward pass.
    public init() {}
}

/// The result of a differentiable solve.
public struct ODEIntResult<Scalar: TensorScalar> {
    /// `states[k][c]`: component `c` at output time `k`.
    public var states: [[Variable<Scalar>]]
    /// Forward solve statistics.
    public var stats: ODEStats
    /// Backward statistics, filled in once a gradient has been taken through this solve.
    public var backwardStats: BackwardStats

    /// The states at the last output time.
    public var final: [Variable<Scalar>] { states[states.count - 1] }
}

/// Solves `dy/dt = f(t, y; θ)` from `y0` at `times[0]` and returns the state at every time in
/// `times` (strictly monotone, increasing or decreasing). The result is part of the graph:
/// gradients with respect to `y0`, `f.parameters` and `times` flow by `gradient`.
///
/// - Parameters:
///   - f: the dynamics.
///   - y0: initial state components.
///   - times: output times as a rank-1 variable (may require gradients, e.g. a learnable end
///     time), or use the `[Double]` overload.
///   - options: method, tolerances and step control of the forward solve.
///   - gradient: how the backward pass works.
/// - Throws: ``ODEError`` when the forward solve fails.
public func odeint<D: Dynamics>(
    _ f: D, _ y0: [Variable<D.Scalar>], times: Variable<D.Scalar>,
    options: ODEOptions = ODEOptions(), gradient: GradientMethod = .adjoint
) throws -> ODEIntResult<D.Scalar> {
    guard times.rank == 1, times.count >= 2 else { throw ODEError.tooFewOutputTimes(count: times.rank == 1 ? times.count : 0) }
    let t = times.value.scalars.map(Double.init)
    guard times.requiresGradient && GradientMode.isRecording else {
        return try solveDifferentiable(f, y0, times: t, options: options, gradient: gradient)
    }
    // Couple the end points to the times variable (see TimeGradients.swift).
    let start = attachStartTime(f, y0, times: times)
    var result = try solveDifferentiable(f, start, times: t, options: options, gradient: gradient)
    result.states[0] = y0
    for k in 1..<result.states.count {
        result.states[k] = attachOutputTime(f, result.states[k], times: times, index: k)
    }
    return result
}

/// ``odeint(_:_:times:options:gradient:)`` with constant output times.
public func odeint<D: Dynamics>(
    _ f: D, _ y0: [Variable<D.Scalar>], times: [Double],
    options: ODEOptions = ODEOptions(), gradient: GradientMethod = .adjoint
) throws -> ODEIntResult<D.Scalar> {
    guard times.count >= 2 else { throw ODEError.tooFewOutputTimes(count: times.count) }
    return try solveDifferentiable(f, y0, times: times, options: options, gradient: gradient)
}

/// Dispatches to the gradient mode; differentiable with respect to `y0` and `f.parameters`.
func solveDifferentiable<D: Dynamics>(
    _ f: D, _ y0: [Variable<D.Scalar>], times: [Double], options: ODEOptions, gradient: GradientMethod
) throws -> ODEIntResult<D.Scalar> {
    let needsGraph = GradientMode.isRecording
        && (y0.contains { $0.requiresGradient } || f.parameters.contains { $0.requiresGradient })
    if !needsGraph {
        // No graph for the whole solve: evaluations of graph-written dynamics need not switch
        // recording off one by one.
        return try withoutGradient {
            if let flat = try solveFlat(f, y0.map(\.value), times: times, options: options) { return flat }
            let solution = try integrate(
                { t, y in TensorList(f.evaluate(t, y.components)) },
                y0: TensorList(y0.map(\.value)), times: times, options: options)
            return ODEIntResult(
                states: solution.states.map { $0.components.map { Variable($0) } },
                stats: solution.stats, backwardStats: BackwardStats())
        }
    }
    switch gradient {
    case .backprop:
        return try solveBackprop(f, y0, times: times, options: options)
    case .adjoint(let adjointOptions):
        return try solveAdjoint(f, y0, times: times, options: options, adjoint: adjointOptions)
    case .checkpointedAdjoint:
        return try solveCheckpointed(f, y0, times: times, options: options)
    }
}

/// States of Double of at most this many scalars are integrated as one flat array when no
/// gradient is needed (``solveFlat(_:_:times:options:)``).
let flatStateLimit = 256

/// The forward-only solve of a small Double state: its components back to back in one
/// ``FlatState``, so that the solver's stage sums and error norms are plain loops over one
/// array (the arithmetic of ``solveIVP(_:y0:times:method:rtol:atol:stepSize:maxSteps:)``, whose
/// results it reproduces exactly) instead of one tensor allocation and BLAS call per component
/// per stage; the dynamics still see tensors of the components' shapes. Nil for Float states
/// (their arithmetic stays in Float) and for states above ``flatStateLimit`` scalars, where the
/// tensor kernels win.
func solveFlat<D: Dynamics>(
    _ f: D, _ y0: [Tensor<D.Scalar>], times: [Double], options: ODEOptions
) throws -> ODEIntResult<D.Scalar>? {
    guard D.Scalar.self == Double.self else { return nil }
    // The same type as D.Scalar: the conversions below are concrete (no generic per-element code).
    let start = unsafeBitCast(y0, to: [Tensor<Double>].self)
    let shapes = start.map(\.shape)
    var ends = [Int](), total = 0
    for component in start {
        total += component.count
        ends.append(total)
    }
    guard total <= flatStateLimit else { return nil }
    func flatten(_ components: [Tensor<Double>]) -> FlatState {
        var values = [Double](repeating: 0, count: total)
        values.withUnsafeMutableBufferPointer { out in
            for (c, component) in components.enumerated() {
                component.withUnsafeBufferPointer { x in
                    guard let source = x.baseAddress, x.count > 0 else { return }
                    (out.baseAddress! + (c == 0 ? 0 : ends[c - 1])).update(from: source, count: x.count)
                }
            }
        }
        return FlatState(values: values, ends: ends)
    }
    func unflatten(_ state: FlatState) -> [Tensor<D.Scalar>] {
        let tensors = state.values.withUnsafeBufferPointer { values in
            shapes.indices.map { c in
                let offset = c == 0 ? 0 : ends[c - 1]
                return Tensor<Double>(shape: shapes[c]) { out in
                    guard let destination = out.baseAddress, ends[c] > offset else { return }
                    destination.update(from: values.baseAddress! + offset, count: ends[c] - offset)
                }
            }
        }
        return unsafeBitCast(tensors, to: [Tensor<D.Scalar>].self)
    }
    let solution = try integrate(
        { t, y -> FlatState in
            let dy = unsafeBitCast(f.evaluate(t, unflatten(y)), to: [Tensor<Double>].self)
            if let difference = componentShapeDifference(shapes, dy.map { $0.shape }) {
                throw ODEError.stateShapeMismatch(t: t, detail: difference)
            }
            return flatten(dy)
        },
        y0: flatten(start), times: times, options: options)
    return ODEIntResult(
        states: solution.states.map { unflatten($0).map { Variable($0) } },
        stats: solution.stats, backwardStats: BackwardStats())
}
