/// The plain entry point for classic problems, in the spirit of scipy's `solve_ivp`: a
/// right-hand side on `[Double]`, the initial state, output times, a method and tolerances.
///
/// ```swift
/// let (states, stats) = try solveIVP(
///     { t, y in [1.5 * y[0] - y[0] * y[1], -3 * y[1] + y[0] * y[1]] },
///     y0: [1, 1], times: [0, 5, 10], rtol: 1e-8, atol: 1e-8)
/// ```
///
/// The defaults are ``ODEOptions``'s (dopri5, rtol 1e-7, atol 1e-9, as torchdiffeq's
/// `odeint`; scipy's `solve_ivp` defaults to the much looser 1e-3 / 1e-6).
///
/// - Throws: ``ODEError``; ``ODEError/stateShapeMismatch(t:detail:)`` when `f` returns an
///   array of another length than `y0`.
public func solveIVP(
    _ f: (Double, [Double]) throws -> [Double], y0: [Double], times: [Double],
    method: Tableau = ODEOptions.defaultMethod, rtol: Double = ODEOptions.defaultRelativeTolerance,
    atol: Double = ODEOptions.defaultAbsoluteTolerance, stepSize: Double? = nil,
    maxSteps: Int = ODEOptions.defaultMaxSteps
) throws -> (states: [[Double]], stats: ODEStats) {
    let options = ODEOptions(method: method, rtol: rtol, atol: atol, maxSteps: maxSteps, stepSize: stepSize)
    let solution = try integrate(f, y0: y0, times: times, options: options)
    return (solution.states, solution.stats)
}
