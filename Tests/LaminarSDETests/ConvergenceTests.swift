import Foundation
import Testing
import LaminarSDE

/// Strong and weak convergence orders of every scheme against closed-form solutions on the
/// same Brownian paths: geometric Brownian motion (Itô and Stratonovich forms) and an
/// Ornstein–Uhlenbeck process (additive noise). Orders are least-squares slopes of log error
/// on log step over steps 2⁻³…2⁻⁸; the tolerances (±0.2 on the slope) leave room for the
/// Monte Carlo error of 1 000 paths with fixed seeds.
@Suite struct ConvergenceTests {
    static let paths = 1_000
    static let T = 1.0
    static let steps = (3...8).map { pow(2.0, -Double($0)) }

    /// dX = μX dt + σX dW (Itô) or ∘ dW (Stratonovich), X₀ = 1.
    static func gbm(_ calculus: SDECalculus, mu: Double = 0.5, sigma: Double = 0.8) -> ClosureSDE<Double> {
        ClosureSDE(calculus: calculus, drift: { _, x in x * mu }, diffusion: { _, x in x * sigma })
    }

    /// X_T on the path: exp((μ − σ²/2)T + σW_T) (Itô) or exp(μT + σW_T) (Stratonovich).
    static func gbmExact(_ calculus: SDECalculus, w: [Double], mu: Double = 0.5, sigma: Double = 0.8) -> [Double] {
        let drift = calculus == .ito ? mu - sigma * sigma / 2 : mu
        return w.map { Foundation.exp(drift * T + sigma * $0) }
    }

    static func solve(_ sde: ClosureSDE<Double>, x0: Double, scheme: SDEScheme, h: Double, brownian: any BrownianMotion) throws -> [Double] {
        let result = try sdeint(
            sde, Variable(Tensor(repeating: x0, shape: [paths, 1])), times: [0, T], brownian: brownian,
            options: SDEOptions(scheme: scheme, stepSize: h))
        return result.final.value.scalars
    }

    /// Least-squares slope of log(error) on log(h).
    static func slope(_ h: [Double], _ e: [Double]) -> Double {
        let x = h.map { Foundation.log($0) }, y = e.map { Foundation.log($0) }
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        return sxy / sxx
    }

    /// Strong order on GBM: slope of E|X_T^h − X_T|.
    static func strongOrderOnGBM(_ scheme: SDEScheme) throws -> Double {
        let tree = VirtualBrownianTree(t0: 0, t1: T, shape: [paths, 1], seed: 2024)
        let exact = gbmExact(scheme.calculus, w: tree.value(at: T))
        let errors = try steps.map { h in
            let x = try solve(gbm(scheme.calculus), x0: 1, scheme: scheme, h: h, brownian: tree)
            return zip(x, exact).reduce(0) { $0 + Swift.abs($1.0 - $1.1) } / Double(paths)
        }
        return slope(steps, errors)
    }

    @Test(arguments: SDEScheme.all)
    func strongOrderOnGeometricBrownianMotion(_ scheme: SDEScheme) throws {
        let order = try Self.strongOrderOnGBM(scheme)
        print("sde-order gbm strong \(scheme.name) \(order)")
        #expect(Swift.abs(order - scheme.strongOrder) < 0.2, "\(scheme.name): strong order \(order), expected \(scheme.strongOrder)")
    }

    /// OU dX = θ(m − X)dt + σ dW: additive noise, where Euler–Maruyama is of strong order 1.
    /// The exact X_T on the path, by parts: x₀e^{−θT} + m(1 − e^{−θT}) + σ(W_T − θ∫₀ᵀ e^{−θ(T−s)} W_s ds),
    /// the integral by the trapezoid rule on 2¹³ intervals (error ~1e-8, far below the schemes').
    @Test(arguments: SDEScheme.all)
    func strongOrderOnOrnsteinUhlenbeck(_ scheme: SDEScheme) throws {
        let (theta, m, sigma, x0) = (1.5, 0.5, 0.6, 2.0)
        let sde = ClosureSDE<Double>(
            calculus: scheme.calculus, drift: { _, x in (m - x) * theta }, diffusion: { _, x in x * 0 + sigma })
        let T = Self.T
        let tree = VirtualBrownianTree(t0: 0, t1: T, shape: [Self.paths, 1], seed: 77)
        let fine = 1 << 13
        var integral = [Double](repeating: 0, count: Self.paths)
        for k in 0...fine {
            let s = T * Double(k) / Double(fine)
            let ends = k == 0 || k == fine
            let weight: Double = (ends ? 0.5 : 1) * T / Double(fine) * Foundation.exp(-theta * (T - s))
            for (i, w) in tree.value(at: s).enumerated() { integral[i] += weight * w }
        }
        let decay = Foundation.exp(-theta * T)
        let wT = tree.value(at: T)
        var exact = [Double](repeating: 0, count: Self.paths)
        for i in 0..<Self.paths {
            exact[i] = x0 * decay + m * (1 - decay) + sigma * (wT[i] - theta * integral[i])
        }
        let errors = try Self.steps.map { h in
            let x = try Self.solve(sde, x0: x0, scheme: scheme, h: h, brownian: tree)
            return zip(x, exact).reduce(0) { $0 + Swift.abs($1.0 - $1.1) } / Double(Self.paths)
        }
        let order = Self.slope(Self.steps, errors)
        print("sde-order ou strong \(scheme.name) \(order)")
        #expect(Swift.abs(order - scheme.additiveStrongOrder) < 0.2, "\(scheme.name): strong order \(order) on OU")
    }

    /// Weak order 1 of Euler–Maruyama on Itô GBM, φ(x) = x. The bias E[X^h] − E[X] is estimated
    /// by mean(X^h − X) on common paths (its Monte Carlo error is the strong error over √n,
    /// far below the bias), and it has a closed form to compare with: E[X^h_T] = (1 + μh)^{T/h}.
    @Test func eulerMaruyamaHasWeakOrderOne() throws {
        let (mu, sigma, n) = (1.0, 0.5, 4_000)
        let sde = Self.gbm(.ito, mu: mu, sigma: sigma)
        let tree = VirtualBrownianTree(t0: 0, t1: Self.T, shape: [n, 1], seed: 31)
        let exact = Self.gbmExact(.ito, w: tree.value(at: Self.T), mu: mu, sigma: sigma)
        let hs = (2...6).map { pow(2.0, -Double($0)) }
        var biases: [Double] = []
        for h in hs {
            let x = try sdeint(
                sde, Variable(Tensor(repeating: 1.0, shape: [n, 1])), times: [0, Self.T], brownian: tree,
                options: SDEOptions(scheme: .eulerMaruyama, stepSize: h)).final.value.scalars
            let bias = zip(x, exact).reduce(0) { $0 + $1.0 - $1.1 } / Double(n)
            let closedForm = pow(1 + mu * h, Self.T / h) - Foundation.exp(mu * Self.T)
            #expect(Swift.abs(bias - closedForm) < 0.15 * Swift.abs(closedForm), "h \(h): bias \(bias), closed form \(closedForm)")
            biases.append(Swift.abs(bias))
        }
        let order = Self.slope(hs, biases)
        print("sde-order gbm weak euler \(order)")
        #expect(Swift.abs(order - 1) < 0.2, "weak order \(order)")
    }

    /// The same seed and step give the same path; solving over [0, ½] then [½, 1] equals one
    /// solve over [0, 1] with an output at ½ (the path is queried, not resampled).
    @Test func solvesAreReproducibleAndRestartable() throws {
        let sde = Self.gbm(.stratonovich)
        let tree = VirtualBrownianTree(t0: 0, t1: 1, shape: [4, 1], seed: 8)
        let x0 = Variable(Tensor(repeating: 1.0, shape: [4, 1]))
        let options = SDEOptions(scheme: .heun, stepSize: 0.01)
        let whole = try sdeint(sde, x0, times: [0, 0.5, 1], brownian: tree, options: options)
        let first = try sdeint(sde, x0, times: [0, 0.5], brownian: tree, options: options)
        let second = try sdeint(sde, first.final, times: [0.5, 1], brownian: tree, options: options)
        #expect(second.final.value == whole.final.value)
        #expect(whole.stats.steps == 100)
        #expect(whole.stats.driftEvaluations == 200)
        let again = try sdeint(sde, x0, times: [0, 0.5, 1], brownian: VirtualBrownianTree(t0: 0, t1: 1, shape: [4, 1], seed: 8), options: options)
        #expect(again.final.value == whole.final.value)
    }
}
