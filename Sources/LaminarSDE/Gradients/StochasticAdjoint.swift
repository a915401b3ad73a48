import LaminarODE

/// `adjoint`: the stochastic adjoint of Li, Wong, Chen & Duvenaud 2020 ("Scalable Gradients for
/// Stochastic Differential Equations", §3, Theorem 3.3), for a Stratonovich SDE
/// `dX = f dt + g ∘ dW`.
///
/// The forward solve records nothing and keeps only the states at the output times. The
/// backward pass solves the augmented Stratonovich SDE
///
///     dX   =  f dt + g ∘ dW
///     da   = −aᵀ ∂f/∂X dt − aᵀ ∂(g·)/∂X ∘ dW
///     da_θ = −aᵀ ∂f/∂θ dt − aᵀ ∂(g·)/∂θ ∘ dW
///
/// from the last output time to the first, on the same Brownian path queried backwards (each
/// step's increment is `W(t − |h|) − W(t)`), adding the loss gradient of each intermediate
/// output to `a` and restarting X from the stored forward value there. Every evaluation is one
/// vector–Jacobian product of `f + g·v` (v = ΔW/h). Memory is independent of the number of
/// steps; the gradient converges to back-propagation's as the step size shrinks (the backward
/// solve reconstructs X with the scheme's own error).
func solveStochasticAdjoint<D: SDEDynamics>(
    _ sde: D, _ x0: Variable<D.Scalar>, times: [Double], brownian: any BrownianMotion, options: SDEOptions
) throws -> SDEIntResult<D.Scalar> {
    typealias S = D.Scalar
    let forward = try withoutGradient { try solveValues(sde, x0.value, times: times, brownian: brownian, options: options) }
    let params = sde.parameters.filter(\.requiresGradient)
    let shapes = params.map(\.shape)
    let backwardStats = SDEBackwardStats()
    let noiseShape = brownian.shape

    /// `[out, −aᵀ ∂out/∂X, −aᵀ ∂out/∂θ]` for `out` = f, g·v or f + g·v.
    func pullback(_ t: Double, _ s: TensorList<S>, v: [Double]?, drift: Bool) -> TensorList<S> {
        withGradient {
            let x = Variable(s.components[0], requiresGradient: true)
            let tv: Variable<S> = timeVariable(t)
            var out: Variable<S>
            if let v {
                let noise = sde.applyDiffusion(
                    sde.diffusion(tv, x), Variable(Tensor(shape: noiseShape, scalars: v.map { S($0) })))
                out = drift ? sde.drift(tv, x) + noise : noise
            } else {
                out = sde.drift(tv, x)
            }
            let grads = gradients(of: [out], wrt: [x] + params, seeds: [Variable(s.components[1])])
            var components = [out.value, grads[0].value.map(.negate)]
            if !params.isEmpty {
                components.append(Tensor.concatenate(grads.dropFirst().map { $0.value.reshaped([-1]) }, axis: 0).map(.negate))
            }
            return TensorList(components)
        }
    }

    let outputs = forward.states.dropFirst().map { [$0] }
    let states = makeSolveNode(name: "sdeint.adjoint", y0: [x0], parameters: params, outputs: Array(outputs)) { outputGradients, _ in
        var a = outputGradients[outputGradients.count - 1][0]
        var aTheta: [Tensor<S>] = params.isEmpty ? [] : [Tensor(zeros: [shapes.reduce(0) { $0 + $1.reduce(1, *) }])]
        for k in stride(from: times.count - 1, through: 1, by: -1) {
            let start = TensorList([forward.states[k], a] + aTheta)
            do {
                let solution = try integrateSDE(
                    drift: { t, s in pullback(t, s, v: nil, drift: true) },
                    noise: { t, s, v in pullback(t, s, v: v, drift: false) },
                    field: { t, s, v in pullback(t, s, v: v, drift: true) },
                    y0: start, times: [times[k], times[k - 1]], brownian: brownian, options: options)
                backwardStats.stats.steps += solution.stats.steps
                backwardStats.stats.driftEvaluations += solution.stats.driftEvaluations
                backwardStats.stats.diffusionEvaluations += solution.stats.diffusionEvaluations
                backwardStats.stats.brownianQueries += solution.stats.brownianQueries
                let end = solution.states[1].components
                a = end[1]
                aTheta = Array(end.dropFirst(2))
            } catch {
                // A backward pass cannot throw: poison the gradients (training stops on a
                // non-finite gradient) and keep the solver's message.
                backwardStats.failure = "\(error)"
                a = Tensor(repeating: .nan, shape: a.shape)
                aTheta = aTheta.map { Tensor(repeating: .nan, shape: $0.shape) }
                break
            }
            if k >= 2 { a += outputGradients[k - 2][0] }
        }
        var grads: [Tensor<S>?] = [a]
        if let flat = aTheta.first {
            var offset = 0
            for shape in shapes {
                let n = shape.reduce(1, *)
                grads.append(flat.slice(axis: 0, offset..<(offset + n)).reshaped(shape))
                offset += n
            }
        }
        return grads
    }
    return SDEIntResult(states: [x0] + states.map { $0[0] }, stats: forward.stats, backwardStats: backwardStats)
}
