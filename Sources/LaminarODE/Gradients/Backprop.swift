import LaminarAutodiff

/// `backprop`: the solver runs on variables, so every stage combination and every evaluation of
/// `f` is recorded. Step sizes are treated as constants (the controller is not differentiated,
/// as in diffrax).
func solveBackprop<D: Dynamics>(
    _ f: D, _ y0: [Variable<D.Scalar>], times: [Double], options: ODEOptions
) throws -> ODEIntResult<D.Scalar> {
    let solution = try withGradient {
        try integrate(
            { t, y in VariableList(f(Variable(Tensor(D.Scalar(t))), y.components)) },
            y0: VariableList(y0), times: times, options: options)
    }
    let backward = BackwardStats()
    // The backward pass differentiates each recorded evaluation once.
    backward.nfe = solution.stats.nfe
    return ODEIntResult(
        states: solution.states.map(\.components), stats: solution.stats, backwardStats: backward)
}
