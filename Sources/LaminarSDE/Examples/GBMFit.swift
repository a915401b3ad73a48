import Foundation

/// Fitting geometric Brownian motion `dX = μX dt + σX ∘ dW` (Stratonovich form, so either
/// gradient method applies; the Itô drift is μ + σ²/2) to observed sample paths by gradient
/// descent through the solver: the model's sample paths, drawn on a fresh Brownian tree each
/// iteration, are compared with the data by the squared differences of the per-time mean and
/// standard deviation (moment matching, a pathwise-differentiable loss).
///
/// The worked example of the SDE documentation: data from known (μ, σ), a fit from a wrong
/// start, and the recovered parameters.
public struct GBMFit {
    /// Observation times (ascending, from 0).
    public var times: [Double]
    /// Initial value of every path (`X(0) = x0 > 0`).
    public var x0: Double
    /// Model paths simulated per iteration.
    public var modelPaths: Int
    /// Largest step of the midpoint scheme (in units of t).
    public var stepSize: Double
    /// How gradients flow through the solves: backprop or the stochastic adjoint.
    public var gradient: SDEGradientMethod

    /// A fit observed at `times` from `x0`, with `modelPaths` model paths per iteration, solved with steps of at most `stepSize`.
    public init(times: [Double], x0: Double = 1, modelPaths: Int = 256, stepSize: Double = 0.02, gradient: SDEGradientMethod = .backprop) {
        (self.times, self.x0, self.modelPaths, self.stepSize, self.gradient) = (times, x0, modelPaths, stepSize, gradient)
    }

    /// `paths` exact sample paths `[path][time]`: x₀ exp(μt + σW_t) on a seeded Brownian tree.
    public func sample(mu: Double, sigma: Double, paths: Int, seed: UInt64) -> [[Double]] {
        let tree = VirtualBrownianTree(t0: times[0], t1: times[times.count - 1], shape: [paths], seed: seed)
        let w = times.map { tree.value(at: $0) }
        return (0..<paths).map { p in times.indices.map { k in x0 * Foundation.exp(mu * times[k] + sigma * w[k][p]) } }
    }

    /// Model sample paths `[path][time]` for (μ, σ) (no gradient).
    public func simulate(mu: Double, sigma: Double, paths: Int, seed: UInt64) throws -> [[Double]] {
        let states = try withoutGradient { try solve(Variable(Tensor(mu)), Variable(Tensor(sigma)), paths: paths, seed: seed) }
        return (0..<paths).map { p in states.map { Double($0.value.scalars[p]) } }
    }

    func solve(_ mu: Variable<Double>, _ sigma: Variable<Double>, paths: Int, seed: UInt64) throws -> [Variable<Double>] {
        let sde = ClosureSDE<Double>(
            calculus: .stratonovich, parameters: [mu, sigma], drift: { _, x in x * mu }, diffusion: { _, x in x * sigma })
        let tree = VirtualBrownianTree(t0: times[0], t1: times[times.count - 1], shape: [paths], seed: seed)
        return try sdeint(
            sde, Variable(Tensor(repeating: x0, shape: [paths])), times: times, brownian: tree,
            options: SDEOptions(scheme: .midpoint, stepSize: stepSize), gradient: gradient).states
    }

    /// One fitted state per iteration: parameters and the loss before the update.
    public struct Step: Sendable {
        /// The iteration (0-based) whose parameters these are.
        public var iteration: Int
        /// The drift μ at this iteration.
        public var mu: Double
        /// The volatility σ at this iteration.
        public var sigma: Double
        /// The moment-matching loss at these parameters (before the update).
        public var loss: Double
    }

    /// Fits (μ, σ) to `data` ([path][time]) from `start` with Adam (step `learningRate`), one
    /// fresh model Brownian tree per iteration (seeds `seed + i`).
    public func fit(
        data: [[Double]], start: (mu: Double, sigma: Double), iterations: Int, learningRate: Double = 0.02, seed: UInt64 = 1
    ) throws -> [Step] {
        let K = times.count
        let mean = (0..<K).map { k in data.reduce(0) { $0 + $1[k] } / Double(data.count) }
        var std = [Double](repeating: 0, count: K)
        for k in 0..<K {
            var sum = 0.0
            for path in data { sum += (path[k] - mean[k]) * (path[k] - mean[k]) }
            std[k] = (sum / Double(data.count - 1)).squareRoot()
        }
        var theta = [start.mu, start.sigma]
        var m = [0.0, 0.0], v = [0.0, 0.0]
        var history: [Step] = []
        for i in 1...iterations {
            let mu = Variable(Tensor(theta[0]), requiresGradient: true)
            let sigma = Variable(Tensor(theta[1]), requiresGradient: true)
            let (loss, grads) = try withGradient { () throws -> (Double, [Double]) in
                let states = try solve(mu, sigma, paths: modelPaths, seed: seed &+ UInt64(i))
                var total: Variable<Double>? = nil
                for k in 1..<K {
                    let x = states[k]
                    let m1: Variable<Double> = x.mean()
                    let centred: Variable<Double> = x - m1
                    let variance: Variable<Double> = square(centred).sum() * (1 / Double(modelPaths - 1))
                    let s1: Variable<Double> = sqrt(variance + 1e-12)
                    let term: Variable<Double> = square(m1 - mean[k]) + square(s1 - std[k])
                    total = total.map { $0 + term } ?? term
                }
                let g = gradients(of: total!, wrt: [mu, sigma]).map { $0.value.scalar }
                return (total!.value.scalar, g)
            }
            history.append(Step(iteration: i, mu: theta[0], sigma: theta[1], loss: loss))
            guard loss.isFinite, grads.allSatisfy({ $0.isFinite }) else { throw SDEError.nonFinite(t: times[K - 1]) }
            for j in 0..<2 {
                m[j] = 0.9 * m[j] + 0.1 * grads[j]
                v[j] = 0.999 * v[j] + 0.001 * grads[j] * grads[j]
                let mHat = m[j] / (1 - pow(0.9, Double(i))), vHat = v[j] / (1 - pow(0.999, Double(i)))
                theta[j] -= learningRate * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        history.append(Step(iteration: iterations + 1, mu: theta[0], sigma: theta[1], loss: .nan))
        return history
    }
}
