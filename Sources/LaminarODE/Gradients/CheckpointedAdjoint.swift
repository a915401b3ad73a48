import LaminarAutodiff

/// `checkpointedAdjoint`: the forward solve keeps the start state of every accepted step
/// (the checkpoints); the backward pass walks the steps from last to first, re-runs each one on
/// variables from its checkpoint, and back-propagates the adjoint through that step and through
/// the dense output of any output time inside it (Zhuang et al. 2020, "Adaptive Checkpoint
/// Adjoint Method for Gradient Estimation in Neural ODE"). The gradient equals `backprop`'s up to
/// rounding; memory holds the checkpoints plus one step's graph.
func solveCheckpointed<D: Dynamics>(
    _ f: D, _ y0: [Variable<D.Scalar>], times: [Double], options: ODEOptions
) throws -> ODEIntResult<D.Scalar> {
    typealias S = D.Scalar
    let forward = try integrate(
        { t, y in TensorList(f.evaluate(t, y.components)) },
        y0: TensorList(y0.map(\.value)), times: times, options: options, recordSteps: true)
    let steps = forward.steps ?? []
    let params = f.parameters.filter(\.requiresGradient)
    let backwardStats = BackwardStats()
    let m = y0.count

    // Output time k ≥ 1 is read from the first step whose interval (t, t + h] holds it.
    var outputsOfStep = [[(k: Int, theta: Double)]](repeating: [], count: steps.count)
    var next = 1
    for (i, step) in steps.enumerated() where next < times.count {
        while next < times.count {
            let theta = (times[next] - step.t) / step.h
            if theta > 0 && theta <= 1 + 1e-9 {
                outputsOfStep[i].append((next, Swift.min(theta, 1)))
                next += 1
            } else {
                break
            }
        }
    }

    let states = makeSolveNode(
        name: "odeint.checkpointed", y0: y0, parameters: params,
        outputs: Array(forward.states.dropFirst().map(\.components))
    ) { outputGradients, _ in
        var a: [Tensor<S>]? = nil
        var aTheta = params.map { Tensor<S>(zeros: $0.shape) }
        var evaluations = 0
        let fVar = { (t: Double, y: VariableList<S>) -> VariableList<S> in
            evaluations += 1
            return VariableList(f(Variable(Tensor(S(t))), y.components))
        }
        for i in steps.indices.reversed() {
            let step = steps[i]
            let result: [Tensor<S>]? = withGradient {
                let y = step.y.components.map { Variable($0, requiresGradient: true) }
                guard var res = try? rungeKuttaStep(
                    fVar, tableau: options.method, t: step.t, y: VariableList(y), h: step.h, k1: nil)
                else { return nil }
                if !outputsOfStep[i].isEmpty {
                    guard (try? prepareDenseOutput(&res, tableau: options.method, fVar)) != nil else { return nil }
                }
                var outs: [Variable<S>] = []
                var seeds: [Variable<S>] = []
                if let a {
                    outs += res.y1.components
                    seeds += a.map { Variable($0) }
                }
                for (k, theta) in outputsOfStep[i] {
                    outs += interpolate(res, tableau: options.method, theta: theta).components
                    seeds += outputGradients[k - 1].map { Variable($0) }
                }
                if outs.isEmpty { return (step.y.components + params.map(\.value)).map { Tensor(zeros: $0.shape) } }
                return gradients(of: outs, wrt: y + params, seeds: seeds).map(\.value)
            }
            guard let result else {
                backwardStats.failure = "re-running step \(i) at t=\(step.t) failed"
                return (a ?? y0.map(\.value)).map { Tensor(repeating: .nan, shape: $0.shape) }
                    + aTheta.map { Tensor(repeating: .nan, shape: $0.shape) }
            }
            a = Array(result[0..<m])
            for (j, g) in result[m...].enumerated() { aTheta[j] += g }
        }
        backwardStats.nfe = evaluations
        backwardStats.acceptedSteps = steps.count
        return (a ?? y0.map { Tensor(zeros: $0.shape) }) + aTheta
    }
    return ODEIntResult(states: [y0] + states, stats: forward.stats, backwardStats: backwardStats)
}
