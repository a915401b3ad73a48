import Foundation
import Testing
@testable import LaminarFlows

/// The affine paths against their closed forms: endpoints, velocities (central differences in
/// Double) and the conditional marginal N(α_u x₁, σ_u² I).
@Suite struct ProbabilityPathTests {
    static let paths = [
        ProbabilityPath(scheduler: .condot, sigmaMin: 1e-4), ProbabilityPath(scheduler: .condot, sigmaMin: 0.1),
        ProbabilityPath(scheduler: .vp), ProbabilityPath(scheduler: .cosine),
    ]

    @Test func endpointsAreNoiseAndData() {
        let ot = ProbabilityPath(scheduler: .condot, sigmaMin: 0.1)
        #expect(ot.coefficients(0) == (0, 1, 1, -0.9))
        let one = ot.coefficients(1)
        #expect(Swift.abs(one.alpha - 1) < 1e-15 && Swift.abs(one.sigma - 0.1) < 1e-15)
        let cosine = ProbabilityPath(scheduler: .cosine).coefficients(1)
        #expect(Swift.abs(cosine.alpha - 1) < 1e-15 && Swift.abs(cosine.sigma) < 1e-15)
        // VP: α_0 = exp(−½(β_min + ½(β_max − β_min))) = exp(−5.025), σ_0² = 1 − α_0².
        let vp = ProbabilityPath(scheduler: .vp).coefficients(0)
        #expect(Swift.abs(vp.alpha - exp(-5.025)) < 1e-15)
        #expect(Swift.abs(vp.alpha * vp.alpha + vp.sigma * vp.sigma - 1) < 1e-15)
    }

    /// α̇ and σ̇ against central differences (step 1e-6: truncation ~1e-12, rounding ~1e-10).
    @Test(arguments: paths) func velocityCoefficientsMatchFiniteDifferences(path: ProbabilityPath) {
        for u in stride(from: 0.05, through: 0.95, by: 0.05) {
            let h = 1e-6
            let (a1, s1) = (path.coefficients(u + h).alpha, path.coefficients(u + h).sigma)
            let (a0, s0) = (path.coefficients(u - h).alpha, path.coefficients(u - h).sigma)
            let c = path.coefficients(u)
            #expect(Swift.abs(c.dAlpha - (a1 - a0) / (2 * h)) < 1e-6 * Swift.max(1, Swift.abs(c.dAlpha)), "\(path.scheduler) u \(u)")
            #expect(Swift.abs(c.dSigma - (s1 - s0) / (2 * h)) < 1e-6 * Swift.max(1, Swift.abs(c.dSigma)), "\(path.scheduler) u \(u)")
        }
    }

    /// The interpolated points and velocities are `α x₁ + σ x₀` and `α̇ x₁ + σ̇ x₀` row by row.
    @Test(arguments: paths) func interpolationIsTheAffineMap(path: ProbabilityPath) {
        var rng = RandomGenerator(seed: 1)
        let x0 = Tensor<Double>.randomNormal([5, 3], using: &rng)
        let x1 = Tensor<Double>.randomNormal([5, 3], using: &rng)
        let u = [0, 0.2, 0.5, 0.7, path.maximumTime]
        let (p, v) = path.interpolate(noise: x0, data: x1, times: u)
        for i in 0..<5 {
            let c = path.coefficients(u[i])
            for j in 0..<3 {
                let a = x0.scalars[i * 3 + j], b = x1.scalars[i * 3 + j]
                #expect(Swift.abs(p.scalars[i * 3 + j] - (c.alpha * b + c.sigma * a)) < 1e-14)
                #expect(Swift.abs(v.scalars[i * 3 + j] - (c.dAlpha * b + c.dSigma * a)) < 1e-12)
            }
        }
    }

    /// For a fixed data point μ, x_u has mean α_u μ and variance σ_u² per coordinate: 40,000
    /// draws, so the tolerances (5 standard errors) fail only by chance with p ≈ 1e-6.
    @Test(arguments: paths) func conditionalMarginalIsGaussian(path: ProbabilityPath) {
        var rng = RandomGenerator(seed: 2)
        let n = 40_000, mu = [1.5, -2.0]
        let x1 = Tensor<Double>(shape: [n, 2], scalars: (0..<n).flatMap { _ in mu })
        let x0 = Tensor<Double>.randomNormal([n, 2], using: &rng)
        for u in [0.1, 0.5, 0.9] {
            let c = path.coefficients(u)
            let p = path.interpolate(noise: x0, data: x1, times: Array(repeating: u, count: n)).point.scalars
            for j in 0..<2 {
                let values = stride(from: j, to: 2 * n, by: 2).map { p[$0] }
                let mean = values.reduce(0, +) / Double(n)
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
                #expect(Swift.abs(mean - c.alpha * mu[j]) < 5 * c.sigma / Double(n).squareRoot())
                #expect(Swift.abs(variance / (c.sigma * c.sigma) - 1) < 5 * (2 / Double(n)).squareRoot())
            }
        }
    }

    @Test func invalidSigmaMinIsRejectedNamingTheFlag() {
        #expect(throws: FlowError.self) { try ProbabilityPath(sigmaMin: -0.1).validate() }
        do { try ProbabilityPath(sigmaMin: 1).validate() } catch { #expect("\(error)".contains("--sigma-min")) }
    }
}

extension ProbabilityPath: CustomTestStringConvertible {
    public var testDescription: String { "\(scheduler.rawValue) σ_min \(sigmaMin)" }
}
