import LaminarAutodiff

/// `adjoint`: the continuous adjoint method of Chen, Rubanova, Bettencourt & Duvenaud 2018
/// (Neural Ordinary Differential Equations, §2 and Appendix B).
///
/// The forward solve records nothing. The backward pass integrates the augmented system
///
///     dy/dt = f(t, y),   da/dt = −aᵀ ∂f/∂y,   da_θ/dt = −aᵀ ∂f/∂θ
///
/// from the last output time to the first, adding the loss gradient of each intermediate output
/// to `a` when the solve passes its time (the adjoint's jumps) and restarting `y` from the stored
/// forward value there. Memory is independent of the number of steps. The returned gradients
/// are constants: a gradient taken through an adjoint solve cannot be differentiated again.
func solveAdjoint<D: Dynamics>(
    _ f: D, _ y0: [Variable<D.Scalar>], times: [Double], options: ODEOptions, adjoint: AdjointOptions
) throws -> ODEIntResult<D.Scalar> {
    typealias S = D.Scalar
    let forward = try integrate(
        { t, y in TensorList(f.evaluate(t, y.components)) },
        y0: TensorList(y0.map(\.value)), times: times, options: options)
    let params = f.parameters.filter(\.requiresGradient)
    let stored = forward.states.map(\.components)
    let backwardStats = BackwardStats()
    let m = y0.count

    var backwardOptions = options
    backwardOptions.rtol = adjoint.rtol ?? options.rtol
    backwardOptions.atol = adjoint.atol ?? options.atol
    backwardOptions.firstStep = nil
    if adjoint.seminorm {
        // RMS over the state and its adjoint only; a_θ does not steer the step size.
        backwardOptions.norm = .custom { comps in
            var sum = 0.0, count = 0
            for c in comps.prefix(2 * m) {
                sum += c.sumOfSquares
                count += c.count
            }
            return count == 0 ? 0 : (sum / Double(count)).squareRoot()
        }
    }

    let states = makeSolveNode(
        name: "odeint.adjoint", y0: y0, parameters: params, outputs: Array(stored.dropFirst())
    ) { outputGradients, _ in
        // outputGradients[k-1] is the gradient of the state at times[k].
        // a_θ travels as one flat component: the solver's per-component work (stage
        // combinations, error norms) then does not grow with the number of parameter tensors.
        let sizes = params.map(\.count)
        let augmented = { (t: Double, s: TensorList<S>) -> TensorList<S> in
            let p = f.pullback(
                t, Array(s.components[0..<m]), seeds: Array(s.components[m..<(2 * m)]), parameters: params)
            var out = p.value + p.stateGradients.map { $0.map(.negate) }
            if !params.isEmpty { out.append(flatten(p.parameterGradients).map(.negate)) }
            return TensorList(out)
        }
        var a = outputGradients[outputGradients.count - 1]
        var aTheta = params.isEmpty ? [] : [Tensor<S>(zeros: [sizes.reduce(0, +)])]
        for k in stride(from: times.count - 1, through: 1, by: -1) {
            let start = TensorList(stored[k] + a + aTheta)
            do {
                let solution = try integrate(
                    augmented, y0: start, times: [times[k], times[k - 1]], options: backwardOptions)
                // Between many close output times (a batch of irregular series), start the next
                // interval with the step that worked here instead of probing for one again.
                if solution.stats.proposedStepSize != 0 {
                    backwardOptions.firstStep = Swift.abs(solution.stats.proposedStepSize)
                }
                backwardStats.nfe += solution.stats.nfe
                backwardStats.acceptedSteps += solution.stats.acceptedSteps
                backwardStats.rejectedSteps += solution.stats.rejectedSteps
                let end = solution.states[1].components
                a = Array(end[m..<(2 * m)])
                aTheta = Array(end[(2 * m)...])
            } catch {
                // A backward pass cannot throw: poison the gradients so training stops on a
                // non-finite gradient with the solver's message recorded.
                backwardStats.failure = "\(error)"
                a = a.map { Tensor(repeating: .nan, shape: $0.shape) }
                aTheta = aTheta.map { Tensor(repeating: .nan, shape: $0.shape) }
                break
            }
            if k - 1 >= 1 {
                for c in 0..<m { a[c] += outputGradients[k - 2][c] }
            }
        }
        return a + (params.isEmpty ? [] : unflatten(aTheta[0], like: params.map(\.shape)))
    }
    return ODEIntResult(states: [y0] + states, stats: forward.stats, backwardStats: backwardStats)
}

/// The tensors' elements one after another, as a rank-1 tensor.
func flatten<S: TensorScalar>(_ tensors: [Tensor<S>]) -> Tensor<S> {
    Tensor.concatenate(tensors.map { $0.reshaped([-1]) }, axis: 0)
}

/// Rank-1 `flat` cut into tensors of `shapes` (the inverse of ``flatten(_:)``).
func unflatten<S: TensorScalar>(_ flat: Tensor<S>, like shapes: [[Int]]) -> [Tensor<S>] {
    var start = 0
    return shapes.map { shape in
        let count = shape.reduce(1, *)
        defer { start += count }
        return flat.slice(axis: 0, start..<(start + count)).reshaped(shape)
    }
}
