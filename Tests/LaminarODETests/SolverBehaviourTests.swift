import Foundation
import Testing
import LaminarODE
import LaminarAutodiff
import _LaminarTestSupport

/// Dense output, direction of integration, statistics and typed failures.
@Suite struct SolverBehaviourTests {
    @Test(arguments: [(Tableau.dopri5, 3.0), (.dopri8, 3.0), (.bosh3, 3.0), (.tsit5, 3.0)])
    func denseOutputIsAsAccurateAsTheSteps(method: Tableau, allowance: Double) throws {
        // 201 output times; the steps are not forced onto them. Compare the worst error of the
        // interpolated outputs with the error of the same solve at its end point: an
        // interpolant of the method's order adds no more than a small factor.
        let p = ODEProblem.harmonicOscillator
        let times = (0...200).map { Double($0) * 0.05 }
        for tol in [1e-6, 1e-9] {
            let (states, stats) = try solveIVP(p.f, y0: p.y0, times: times, method: method, rtol: tol, atol: tol)
            let (ends, _) = try solveIVP(p.f, y0: p.y0, times: [0, 10], method: method, rtol: tol, atol: tol)
            let endError = maxError(ends[1], p.exact(10))
            let worst = zip(times, states).map { maxError($1, p.exact($0)) }.max()!
            #expect(worst <= allowance * Swift.max(endError, tol), "\(method.name) at \(tol): dense \(worst), end \(endError), \(stats)")
        }
    }

    @Test func dopri5InterpolantIsFourthOrder() throws {
        // One step of size h from t = 0; the interpolant at θ = 0.4 against the exact solution:
        // its local error falls like h⁵.
        let p = ODEProblem.harmonicOscillator
        let hs = [0.4, 0.2, 0.1, 0.05]
        let errors = try hs.map { h -> Double in
            var step = try rungeKuttaStep(p.f, tableau: .dopri5, t: 0, y: p.y0, h: h, k1: nil)
            try prepareDenseOutput(&step, tableau: .dopri5, p.f)
            return maxError(interpolate(step, tableau: .dopri5, theta: 0.4), p.exact(0.4 * h))
        }
        #expect(logLogSlope(hs, errors) > 4.5, "errors \(errors)")
    }

    @Test func integratesBackwardsInTime() throws {
        let p = ODEProblem.harmonicOscillator
        let (forward, _) = try solveIVP(p.f, y0: p.y0, times: [0, 3], rtol: 1e-10, atol: 1e-10)
        let (back, _) = try solveIVP(p.f, y0: forward[1], times: [3, 2, 1, 0], rtol: 1e-10, atol: 1e-10)
        #expect(maxError(back[3], p.y0) < 1e-8)
        #expect(maxError(back[1], p.exact(2)) < 1e-8)
    }

    /// Output times one ulp apart (time stamps shifted to a common origin give them): the
    /// forward solve and the adjoint, which integrates between every pair of output times,
    /// both treat the sliver as no motion instead of failing with a step-size underflow.
    @Test func outputTimesAnUlpApartAreSolvedAndDifferentiated() throws {
        let p = ODEProblem.harmonicOscillator
        let t = 0.9
        let times = [0, t, t.nextUp, 1.5]
        let (states, _) = try solveIVP(p.f, y0: p.y0, times: times, rtol: 1e-9, atol: 1e-9)
        #expect(maxError(states[1], states[2]) < 1e-14)
        #expect(maxError(states[3], p.exact(1.5)) < 1e-7)
        func gradient(_ method: GradientMethod) throws -> [Double] {
            try withGradient {
                let w = Variable(Tensor<Double>(shape: [2, 2], scalars: [0.1, 1, -1, 0.2]), requiresGradient: true)
                let f = ClosureDynamics(parameters: [w]) { _, y in [matmul(y[0], w)] }
                let y0 = Variable(Tensor<Double>(shape: [1, 2], scalars: [1, 0.5]), requiresGradient: true)
                let result = try odeint(f, [y0], times: times, options: ODEOptions(rtol: 1e-10, atol: 1e-10), gradient: method)
                let loss = result.states.dropFirst().map { $0[0].sum() }.reduce(Variable(Tensor(0.0)), +)
                return gradients(of: loss, wrt: [y0, w]).flatMap { $0.value.scalars }
            }
        }
        let adjoint = try gradient(.adjoint), backprop = try gradient(.backprop)
        #expect(adjoint.allSatisfy { $0.isFinite })
        #expect(maxError(adjoint, backprop) < 1e-7, "\(adjoint) vs \(backprop)")
    }

    @Test func nonMonotoneTimesAreRejected() {
        #expect(throws: ODEError.nonMonotoneTimes(index: 2)) {
            try solveIVP({ _, y in y }, y0: [1], times: [0, 1, 0.5])
        }
    }

    @Test func stiffProblemHitsStepBudgetQuickly() {
        let stiff: (Double, [Double]) -> [Double] = { _, y in [y[1], 1000 * (1 - y[0] * y[0]) * y[1] - y[0]] }
        #expect {
            try solveIVP(stiff, y0: [2, 0], times: [0, 3000], maxSteps: 200)
        } throws: { error in
            if case ODEError.maxStepsExceeded(_, 200) = error { return true }
            return false
        }
    }

    @Test func nanRightHandSideIsReported() {
        #expect {
            try solveIVP({ t, y in t > 0.5 ? [Double.nan] : [-y[0]] }, y0: [1], times: [0, 1])
        } throws: { error in
            if case ODEError.nonFinite = error { return true }
            return false
        }
    }

    @Test func blowUpEndsWithATypedError() {
        // y' = y², y(0) = 1 blows up at t = 1.
        #expect {
            try solveIVP({ _, y in [y[0] * y[0]] }, y0: [1], times: [0, 2])
        } throws: { error in
            switch error as? ODEError {
            case .stepSizeUnderflow, .nonFinite, .maxStepsExceeded: return true
            default: return false
            }
        }
    }

    @Test func statisticsCountEveryEvaluation() throws {
        for method in [Tableau.dopri5, .bosh3, .dopri8, .fehlberg2] {
            var calls = 0
            let p = ODEProblem.kepler
            let (_, stats) = try solveIVP({ t, y in calls += 1; return p.f(t, y) }, y0: p.y0, times: [0, 1, 2],
                                          method: method, rtol: 1e-7, atol: 1e-7)
            #expect(stats.nfe == calls)
            if method.isFSAL {
                // First stage, initial-step probe, then (stages − 1) per attempted step.
                #expect(stats.nfe == 2 + (method.stages - 1) * (stats.acceptedSteps + stats.rejectedSteps))
            }
        }
    }

    @Test func tableauxAreConsistent() {
        #expect(Tableau.dopri5.isFSAL && Tableau.tsit5.isFSAL && Tableau.bosh3.isFSAL)
        #expect(!Tableau.dopri8.isFSAL && !Tableau.rk4.isFSAL && !Tableau.fehlberg2.isFSAL)
        for t in Tableau.all { #expect(Tableau.named(t.name) == t) }
    }
}
