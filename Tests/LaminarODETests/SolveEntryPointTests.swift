import Foundation
import Testing
import LaminarODE
import LaminarAutodiff
import _LaminarTestSupport

/// The entry points' contracts: typed errors for malformed problems, one set of defaults, and
/// forward solves of closures without the graph.
@Suite struct SolveEntryPointTests {
    @Test func rightHandSideOfTheWrongLengthIsATypedError() throws {
        #expect(throws: ODEError.stateShapeMismatch(t: 0, detail: "length 3 instead of 2")) {
            try solveIVP({ _, y in [y[0], y[1], 0] }, y0: [1, 2], times: [0, 1])
        }
        #expect(throws: ODEError.stateShapeMismatch(t: 0, detail: "length 1 instead of 2")) {
            try solveIVP({ _, y in [y[0]] }, y0: [1, 2], times: [0, 1], method: .rk4, stepSize: 0.1)
        }
    }

    @Test func dynamicsOfTheWrongShapeAreATypedError() throws {
        let y0 = [Variable(Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4]))]
        let transposed = ClosureDynamics<Double>({ _, y in [y[0].transposed()] })
        let bad = ClosureDynamics<Double>({ _, y in [y[0], y[0]] })
        for gradient in [GradientMethod.adjoint, .backprop] {
            // The transpose of a square state keeps the shape: accepted.
            _ = try odeint(transposed, y0, times: [0, 1], gradient: gradient)
            #expect(throws: ODEError.stateShapeMismatch(t: 0, detail: "2 components instead of 1")) {
                try odeint(bad, y0, times: [0, 1], gradient: gradient)
            }
        }
        let flat = ClosureDynamics<Double>({ _, y in [y[0].reshaped([4])] })
        #expect(throws: ODEError.stateShapeMismatch(t: 0, detail: "shape [4] instead of [2, 2] in component 0")) {
            try odeint(flat, y0, times: [0, 1])
        }
    }

    @Test func fewerThanTwoOutputTimesIsATypedError() throws {
        let f = ClosureDynamics<Double>({ _, y in [-y[0]] })
        let y0 = [Variable(Tensor<Double>([1]), requiresGradient: true)]
        #expect(throws: ODEError.tooFewOutputTimes(count: 1)) { try odeint(f, y0, times: [0]) }
        #expect(throws: ODEError.tooFewOutputTimes(count: 0)) { try odeint(f, y0, times: []) }
        let learnable = Variable(Tensor<Double>([1]), requiresGradient: true)
        #expect(throws: ODEError.tooFewOutputTimes(count: 1)) { try odeint(f, y0, times: learnable) }
        #expect(ODEError.tooFewOutputTimes(count: 1).description.contains("at least two output times"))
    }

    @Test func solveIVPAndODEOptionsShareTheirDefaults() throws {
        let p = ODEProblem.harmonicOscillator
        let (states, stats) = try solveIVP(p.f, y0: p.y0, times: [0, 10])
        let solution = try integrate(p.f, y0: p.y0, times: [0, 10], options: ODEOptions())
        #expect(states == solution.states)
        #expect(stats == solution.stats)
        #expect(ODEOptions().rtol == 1e-7 && ODEOptions().atol == 1e-9)
    }

    @Test func closureWithAPlainRightHandSideSkipsTheGraphInForwardSolves() throws {
        var graphCalls = 0, plainCalls = 0
        let k = 0.7
        let f = ClosureDynamics<Double>(
            { _, y in graphCalls += 1; return [y[0] * -k] },
            plain: { _, y in plainCalls += 1; return [y[0] * -k] })
        let y0 = [Variable(Tensor<Double>([1, 2]))]
        let result = try withoutGradient { try odeint(f, y0, times: [0, 1], options: ODEOptions(rtol: 1e-10, atol: 1e-12)) }
        #expect(graphCalls == 0)
        #expect(plainCalls == result.stats.nfe)
        let end = result.final[0].value.scalars
        #expect(Swift.abs(end[0] - Foundation.exp(-k)) < 1e-9 && Swift.abs(end[1] - 2 * Foundation.exp(-k)) < 1e-9)
        // With a gradient requested the variable closure is what gets differentiated.
        let x0 = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let g = try withGradient {
            let out = try odeint(f, [x0], times: [0, 1], options: ODEOptions(rtol: 1e-10, atol: 1e-12), gradient: .backprop)
            return gradients(of: out.final[0].sum(), wrt: [x0])[0].value.scalars
        }
        #expect(graphCalls > 0)
        #expect(g.allSatisfy { Swift.abs($0 - Foundation.exp(-k)) < 1e-8 }, "\(g)")
    }
}
