import Foundation
import Testing
import LaminarODE
import _LaminarTestSupport

/// Orders of the fixed-step methods and accuracy of the adaptive ones against exact solutions.
@Suite struct ConvergenceTests {
    @Test(arguments: [(Tableau.euler, 1.0), (.midpoint, 2.0), (.rk4, 4.0)])
    func fixedStepMethodsConvergeWithTheirOrder(method: Tableau, order: Double) throws {
        let p = ODEProblem.harmonicOscillator
        let steps = [0.1, 0.05, 0.025, 0.0125, 0.00625]
        let errors = try steps.map { h in
            let (states, _) = try solveIVP(p.f, y0: p.y0, times: [0, 1], method: method, stepSize: h)
            return maxError(states[1], p.exact(1))
        }
        let slope = logLogSlope(steps, errors)
        // The criterion: measured slope within 0.2 of the theoretical order.
        #expect(Swift.abs(slope - order) < 0.2, "\(method.name): slope \(slope), errors \(errors)")
    }

    @Test(arguments: [Tableau.dopri5, .tsit5, .bosh3, .dopri8])
    func globalErrorTracksTolerance(method: Tableau) throws {
        // Global error after integrating over [t0, t1] accumulates local errors: within
        // 10 × tol per unit of integration time, relative to the solution's size.
        for tol in [1e-6, 1e-9] {
            for p in [ODEProblem.exponentialDecay, .harmonicOscillator] {
                let (states, stats) = try solveIVP(p.f, y0: p.y0, times: [p.t0, p.t1], method: method, rtol: tol, atol: tol)
                let exact = p.exact(p.t1)
                let bound = 10 * tol * (p.t1 - p.t0) * Swift.max(1, exact.map(Swift.abs).max()!)
                let err = maxError(states[1], exact)
                #expect(err <= bound, "\(method.name) on \(p.name) at \(tol): error \(err) > \(bound) (\(stats))")
            }
        }
    }

    @Test(arguments: [Tableau.dopri5, .tsit5, .dopri8])
    func keplerOrbitIsAtLeastAsAccurateAsScipyRK45(method: Tableau) throws {
        // One period of an eccentric orbit amplifies local errors near periapsis. scipy's RK45
        // (solve_ivp, rtol = atol = tol, scipy 1.17) ends with errors 4.43e-4 at 1e-6 and
        // 2.90e-7 at 1e-9 on this problem; the 5th/8th-order methods here must not do worse.
        let p = ODEProblem.kepler
        for (tol, scipyError) in [(1e-6, 4.43e-4), (1e-9, 2.90e-7)] {
            let (states, stats) = try solveIVP(p.f, y0: p.y0, times: [p.t0, p.t1], method: method, rtol: tol, atol: tol)
            let err = maxError(states[1], p.exact(p.t1))
            #expect(err <= scipyError, "\(method.name) at \(tol): error \(err) (\(stats))")
        }
    }

    @Test func fehlberg2ErrorFallsAsToleranceTightens() throws {
        // fehlberg2 controls the error of its 1st-order embedded solution while propagating the
        // 2nd-order one, so its global error is not tied to the tolerance as tightly; it must
        // still fall steadily as the tolerance tightens.
        let p = ODEProblem.harmonicOscillator
        let errors = try [1e-3, 1e-5, 1e-7].map { tol -> Double in
            let (states, _) = try solveIVP(p.f, y0: p.y0, times: [0, 2], method: .fehlberg2, rtol: tol, atol: tol)
            return maxError(states[1], p.exact(2))
        }
        #expect(errors[1] < errors[0] / 10 && errors[2] < errors[1] / 10, "errors \(errors)")
    }

    struct Reference: Decodable {
        struct Problem: Decodable { let y0: [Double]; let times: [Double]; let states: [[Double]] }
        let problems: [String: Problem]
    }

    static func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/reference-values", withExtension: "json"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    static let lotkaVolterra: @Sendable (Double, [Double]) -> [Double] = { _, y in
        [1.5 * y[0] - y[0] * y[1], -3 * y[1] + y[0] * y[1]]
    }
    static let vanDerPol: @Sendable (Double, [Double]) -> [Double] = { _, y in [y[1], (1 - y[0] * y[0]) * y[1] - y[0]] }

    @Test func dopri8AgreesWithScipyDOP853AtTightTolerance() throws {
        let ref = try Self.reference()
        for (name, f) in [("lotka_volterra", Self.lotkaVolterra), ("van_der_pol", Self.vanDerPol)] {
            let p = try #require(ref.problems[name])
            let (states, _) = try solveIVP(f, y0: p.y0, times: p.times, method: .dopri8, rtol: 1e-13, atol: 1e-13)
            for (s, r) in zip(states, p.states) {
                // Two independent 8th-order solvers at 1e-13: their global errors (each ~1e-9
                // after the error growth of these problems over 10–20 time units) bound the gap.
                #expect(maxError(s, r) < 2e-8, "\(name): \(s) vs \(r)")
            }
        }
    }

    @Test(arguments: [Tableau.dopri5, .tsit5, .bosh3, .dopri8])
    func adaptiveMethodsMatchReferenceValues(method: Tableau) throws {
        let ref = try Self.reference()
        for (name, f) in [("lotka_volterra", Self.lotkaVolterra), ("van_der_pol", Self.vanDerPol)] {
            let p = try #require(ref.problems[name])
            let (states, _) = try solveIVP(f, y0: p.y0, times: p.times, method: method, rtol: 1e-10, atol: 1e-10)
            for (s, r) in zip(states, p.states) {
                // Global error at tolerance 1e-10 over 10–20 time units: below 5e-7.
                #expect(maxError(s, r) < 5e-7, "\(method.name) on \(name): \(s) vs \(r)")
            }
        }
    }
}
