import Testing
import LaminarODE
import LaminarAutodiff
import _LaminarTestSupport

/// Forward-only `odeint` solves of small Double states run on one flat array: the same
/// numbers, step for step, as `solveIVP` on the same right-hand side.
@Suite struct FlatStateTests {
    let lotka: (Double, [Double]) -> [Double] = { _, y in [1.5 * y[0] - y[0] * y[1], -3 * y[1] + y[0] * y[1]] }

    /// Two one-element components (prey, predators) with the plain closure, and the same
    /// closure on variables only: bit-identical states and equal statistics.
    @Test func odeintOnAClosureEqualsSolveIVPExactly() throws {
        let times = [0.0, 2.5, 10]
        let (reference, referenceStats) = try solveIVP(lotka, y0: [1, 1], times: times, rtol: 1e-6, atol: 1e-6)
        let onVariables = ClosureDynamics<Double>({ _, y in [y[0] * 1.5 - y[0] * y[1], y[1] * -3 + y[0] * y[1]] })
        let onTensors = ClosureDynamics<Double>(
            { _, y in [y[0] * 1.5 - y[0] * y[1], y[1] * -3 + y[0] * y[1]] },
            plain: { _, y in [y[0] * 1.5 - y[0] * y[1], y[1] * -3 + y[0] * y[1]] })
        for dynamics in [onVariables, onTensors] {
            let result = try odeint(
                dynamics, [Variable(Tensor<Double>([1])), Variable(Tensor<Double>([1]))], times: times,
                options: ODEOptions(rtol: 1e-6, atol: 1e-6))
            #expect(result.stats == referenceStats)
            for (k, state) in result.states.enumerated() {
                #expect(state.map { $0.value.scalars[0] } == reference[k])
            }
        }
    }

    /// One [2, 1] component: the shape is kept, the values are solveIVP's.
    @Test func componentShapesAreKept() throws {
        let (reference, _) = try solveIVP(lotka, y0: [1, 1], times: [0, 1])
        let dynamics = ClosureDynamics<Double>({ _, y in
            let x = y[0].value.scalars
            return [Variable(Tensor(shape: [2, 1], scalars: [1.5 * x[0] - x[0] * x[1], -3 * x[1] + x[0] * x[1]]))]
        })
        let result = try odeint(dynamics, [Variable(Tensor<Double>(shape: [2, 1], scalars: [1, 1]))], times: [0, 1])
        #expect(result.final[0].shape == [2, 1])
        #expect(result.final[0].value.scalars == reference[1])
    }

    /// With a norm that reads components separately (torchdiffeq's mixed RMS) the flat state
    /// reports one error component per state component, as the tensor path does.
    @Test func mixedNormSeesEachComponent() throws {
        let dynamics = ClosureDynamics<Double>(
            { _, y in [y[0] * 1.5 - y[0] * y[1], y[1] * -3 + y[0] * y[1]] },
            plain: { _, y in [y[0] * 1.5 - y[0] * y[1], y[1] * -3 + y[0] * y[1]] })
        let y0 = [Variable(Tensor<Double>([1])), Variable(Tensor<Double>([1]))]
        let options = ODEOptions(rtol: 1e-6, atol: 1e-6, norm: .mixedRMS)
        let flat = try odeint(dynamics, y0, times: [0, 10], options: options)
        // Above the flat-state limit the tensor path runs; a 300-element copy of the same
        // problem (each component repeated) has the same mixed-RMS error, hence the same steps.
        let wide = [Variable(Tensor<Double>(repeating: 1, shape: [150])), Variable(Tensor<Double>(repeating: 1, shape: [150]))]
        let tensor = try odeint(dynamics, wide, times: [0, 10], options: options)
        #expect([flat.stats.nfe, flat.stats.acceptedSteps, flat.stats.rejectedSteps]
                == [tensor.stats.nfe, tensor.stats.acceptedSteps, tensor.stats.rejectedSteps])
        // Identical to rounding: the two paths sum stages with different kernels.
        #expect(Swift.abs(flat.final[0].value.scalars[0] - tensor.final[0].value.scalars[0]) < 1e-9)
    }
}
