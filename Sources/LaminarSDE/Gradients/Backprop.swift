import LaminarODE

/// `backprop`: the solver runs on variables, so every stage and every evaluation of drift and
/// diffusion is recorded; the Brownian increments are constants. The gradient is exact for the
/// computed sample path; the graph grows linearly with the number of steps.
func solveBackprop<D: SDEDynamics>(
    _ sde: D, _ x0: Variable<D.Scalar>, times: [Double], brownian: any BrownianMotion, options: SDEOptions
) throws -> SDEIntResult<D.Scalar> {
    typealias S = D.Scalar
    let shape = brownian.shape
    func noiseTensor(_ v: [Double]) -> Variable<S> { Variable(Tensor(shape: shape, scalars: v.map { S($0) })) }
    let solution = try withGradient {
        try integrateSDE(
            drift: { t, x in VariableList([sde.drift(timeVariable(t), x.components[0])]) },
            noise: { t, x, v in
                VariableList([sde.applyDiffusion(sde.diffusion(timeVariable(t), x.components[0]), noiseTensor(v))])
            },
            field: { t, x, v in VariableList([sde.field(timeVariable(t), x.components[0], noiseTensor(v))]) },
            y0: VariableList([x0]), times: times, brownian: brownian, options: options)
    }
    let backward = SDEBackwardStats()
    backward.stats = solution.stats
    return SDEIntResult(states: solution.states.map { $0.components[0] }, stats: solution.stats, backwardStats: backward)
}
