import Foundation
import Testing
@testable import LaminarFlows
import LaminarNN
import LaminarData
import _LaminarTestSupport

/// Residual flows (`Discrete/ResidualFlow*.swift`, `ResidualBlock*.swift`, `SpectralLinear.swift`)
/// in Double: the Lipschitz bound, inversion, the log-determinant plans (exact, truncated,
/// unbiased) and their gradients, checkpoints.
@Suite struct ResidualFlowTests {
    func makeBlock(dimension: Int, hidden: [Int] = [8, 8], lipschitz: Double, seed: UInt64 = 3) -> ResidualBlock<Double> {
        var rng = RandomGenerator(seed: seed)
        return ResidualBlock<Double>(dimension: dimension, hidden: hidden, lipschitz: lipschitz, using: &rng)
    }

    /// Largest singular value of a row-major m×n matrix by power iteration on AᵀA (to convergence).
    func spectralNorm(_ a: [Double], rows m: Int, cols n: Int) -> Double {
        var v = (0..<n).map { 1.0 + 0.1 * Double($0) }
        var sigma = 0.0
        for _ in 0..<2_000 {
            let av = (0..<m).map { i in (0..<n).reduce(0.0) { $0 + a[i * n + $1] * v[$1] } }
            let atav = (0..<n).map { j in (0..<m).reduce(0.0) { $0 + a[$1 * n + j] * av[$1] } }
            let norm = atav.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = atav.map { $0 / norm }
            sigma = norm.squareRoot()
        }
        return sigma
    }

    /// After normalisation every layer has ‖Ŵ‖₂ ≤ c, and the block's true Jacobian ∂g/∂x at random
    /// points (power iteration on JᵀJ) has spectral norm ≤ c — even for weights scaled far
    /// beyond the bound.
    @Test func spectralNormalisationBoundsTheLipschitzConstant() throws {
        let c = 0.9, d = 3
        let block = makeBlock(dimension: d, lipschitz: c)
        for layer in block.layers { layer.weight.assign(layer.weight.value * 7) }
        block.powerIterate(500)
        for layer in block.layers {
            let w = withoutGradient { layer.normalizedWeight().value }
            let sigma = spectralNorm(w.scalars, rows: w.shape[0], cols: w.shape[1])
            #expect(sigma <= c * (1 + 1e-9) && sigma >= c * (1 - 1e-6), "layer σ \(sigma)")
        }
        var rng = RandomGenerator(seed: 9)
        var largest = 0.0
        for _ in 0..<20 {
            let x = Tensor<Double>.randomNormal([1, d], using: &rng) * 2
            let jac = jacobian(of: { block($0) }, at: x)  // [1, d, 1, d]
            largest = Swift.max(largest, spectralNorm(jac.scalars, rows: d, cols: d))
        }
        #expect(largest <= c * (1 + 1e-9), "Lip estimate \(largest)")
        #expect(largest > 0.05)
    }

    /// Fixed-point inversion recovers x from z = forward(x) to the tolerance, and the inverse's
    /// log-determinant is minus the forward one.
    @Test(arguments: [2, 5])
    func fixedPointInversionRoundTrips(dimension: Int) throws {
        var rng = RandomGenerator(seed: 4)
        let config = ResidualFlowConfiguration(
            dimension: dimension, depth: 4, hidden: [16, 16], lipschitz: 0.9, inverseTolerance: 1e-13, inverseIterations: 5_000)
        let flow = try ResidualFlow<Double>(config, using: &rng)
        let x = Tensor<Double>.randomNormal([7, dimension], using: &rng)
        let (z, forwardLogDet, inverseLogDet, back) = try withoutGradient { () throws -> (Tensor<Double>, Tensor<Double>, Tensor<Double>, Tensor<Double>) in
            let f = try flow.forward(Variable(x))
            let i = try flow.inverse(f.value)
            return (f.value.value, f.logDeterminant.value, i.logDeterminant.value, i.value.value)
        }
        #expect(maxAbsDifference(back, x) < 1e-10)
        #expect(maxAbsDifference(z, x) > 1e-2)
        if dimension <= 8 { #expect(isClose(inverseLogDet, -forwardLogDet, rtol: 1e-9, atol: 1e-10)) }
        let sampled = try flow.sampleTransport(z).0
        #expect(maxAbsDifference(sampled, x) < 1e-10)
    }

    /// A block that cannot converge in the allowed iterations throws a typed error naming it.
    @Test func inversionThatDoesNotConvergeThrows() throws {
        var rng = RandomGenerator(seed: 4)
        let flow = try ResidualFlow<Double>(
            ResidualFlowConfiguration(dimension: 2, depth: 2, lipschitz: 0.97, inverseTolerance: 1e-14, inverseIterations: 1),
            using: &rng)
        let z = Variable(Tensor<Double>.randomNormal([3, 2], using: &rng) * 3)
        #expect(throws: ResidualFlowError.self) { try flow.inverse(z) }
    }

    /// The exact plan equals log|det(I + ∂g/∂x)| of the brute-force Jacobian, and the truncated
    /// series converges to it.
    @Test func exactAndTruncatedLogDeterminantsMatchTheJacobian() throws {
        let d = 3
        let block = makeBlock(dimension: d, lipschitz: 0.6)
        var rng = RandomGenerator(seed: 2)
        let x = Tensor<Double>.randomNormal([4, d], using: &rng)
        let exact = withoutGradient { block.forwardWithLogDeterminant(Variable(x), plan: .exact, probes: .exact).logDeterminant.value }
        let series = withoutGradient { block.forwardWithLogDeterminant(Variable(x), plan: .truncated(60), probes: .exact).logDeterminant.value }
        for r in 0..<4 {
            let jac = jacobian(of: { $0 + block($0) }, at: x.slice(axis: 0, r..<(r + 1)))
            let (logDet, _) = luLogDeterminantAndInverse(jac.scalars, d)
            #expect(Swift.abs(exact[r] - logDet) < 1e-12)
            #expect(Swift.abs(series[r] - logDet) < 1e-9, "series \(series[r]) exact \(logDet)")
        }
    }

    /// Gradients of the exact log-determinant (LU value, tr((I + J)⁻¹ ∂J) surrogate) with
    /// respect to the input and a weight match central differences.
    @Test func exactLogDeterminantGradientMatchesFiniteDifferences() throws {
        let block = makeBlock(dimension: 2, lipschitz: 0.8)
        var rng = RandomGenerator(seed: 6)
        let x = Tensor<Double>.randomNormal([3, 2], using: &rng)
        let check = checkGradient({ block.forwardWithLogDeterminant($0[0], plan: .exact, probes: .exact).logDeterminant }, at: [x])
        #expect(check.maxError < 1e-6, "\(check)")
        try expectParameterGradientMatches(block, x: x) { block.forwardWithLogDeterminant($0, plan: .exact, probes: .exact).logDeterminant.sum() }
    }

    /// The implicit-function gradient of the inverse matches central differences in y and θ.
    @Test func inverseGradientMatchesFiniteDifferences() throws {
        let block = makeBlock(dimension: 2, lipschitz: 0.8)
        var rng = RandomGenerator(seed: 8)
        let y = Tensor<Double>.randomNormal([3, 2], using: &rng)
        let invert = { (v: Variable<Double>) in try! block.inverse(v, tolerance: 1e-14, maxIterations: 10_000, index: 0) }
        let check = checkGradient({ invert($0[0]) }, at: [y])
        #expect(check.maxError < 1e-6, "\(check)")
        let weights = Tensor<Double>.randomNormal([3, 2], using: &rng)
        try expectParameterGradientMatches(block, x: y) { (invert($0) * Variable(weights)).sum() }
    }

    /// Central differences of `loss` in a few entries of every trainable parameter.
    func expectParameterGradientMatches(
        _ block: ResidualBlock<Double>, x: Tensor<Double>, loss: (Variable<Double>) -> Variable<Double>
    ) throws {
        let parameters = block.trainableParameters
        let analytic = withGradient { gradients(of: loss(Variable(x)), wrt: parameters).map(\.value) }
        let h = 1e-6
        for (p, g) in zip(parameters, analytic) {
            for k in Set([0, p.count / 2, p.count - 1]) {
                let original = p.value
                var plus = original, minus = original
                plus.withUnsafeMutableBufferPointer { $0[k] += h }
                minus.withUnsafeMutableBufferPointer { $0[k] -= h }
                p.assign(plus)
                let lp = withoutGradient { loss(Variable(x)).value.scalar }
                p.assign(minus)
                let lm = withoutGradient { loss(Variable(x)).value.scalar }
                p.assign(original)
                let numeric = (lp - lm) / (2 * h)
                #expect(Swift.abs(g.scalars[k] - numeric) < 1e-6 * Swift.max(1, Swift.abs(numeric)), "analytic \(g.scalars[k]) numeric \(numeric)")
            }
        }
    }

    /// The Russian-roulette estimator (exact traces and Hutchinson traces) is unbiased for the
    /// log-determinant and, through the Neumann series, for its gradient: the mean over draws lies
    /// within 4 standard errors of the exact values (a false failure has probability ≈ 6e-5 per
    /// quantity).
    @Test(arguments: [false, true])
    func russianRouletteIsUnbiased(hutchinson: Bool) throws {
        let d = 3
        // One hidden layer at c = 0.8: ‖J‖ ≤ 0.64, large enough for the higher powers to matter
        // and small enough (2‖J‖² < 1) for the roulette's variance to be finite at p = 1/2.
        let block = makeBlock(dimension: d, hidden: [8], lipschitz: 0.8, seed: 12)
        for layer in block.layers { layer.weight.assign(layer.weight.value * 4) }
        block.powerIterate(200)
        var rng = RandomGenerator(seed: 5)
        let x = Tensor<Double>.randomNormal([1, d], using: &rng)
        let bias = block.layers[0].bias
        func valueAndGradient(_ plan: LogDeterminantPlan, _ probes: LogDeterminantProbes<Double>) -> (Double, Double) {
            withGradient {
                let ld = block.forwardWithLogDeterminant(Variable(x), plan: plan, probes: probes).logDeterminant.sum()
                return (ld.value.scalar, gradients(of: ld, wrt: [bias])[0].value.scalars[1])
            }
        }
        let (exactValue, exactGradient) = valueAndGradient(.exact, .exact)
        #expect(Swift.abs(exactValue) > 1e-2)
        var values: [Double] = [], grads: [Double] = []
        for _ in 0..<3_000 {
            let plan = LogDeterminantPlan.russianRoulette(exactTerms: 1, p: 0.5, using: &rng)
            let probes: LogDeterminantProbes<Double> = hutchinson ? .hutchinson(.randomNormal([1, d], using: &rng)) : .exact
            let (v, g) = valueAndGradient(plan, probes)
            values.append(v)
            grads.append(g)
        }
        for (samples, exact, what) in [(values, exactValue, "value"), (grads, exactGradient, "gradient")] {
            let mean = samples.reduce(0, +) / Double(samples.count)
            let sd = (samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count - 1)).squareRoot()
            let se = sd / Double(samples.count).squareRoot()
            #expect(Swift.abs(mean - exact) <= 4 * se + 1e-12, "\(what): mean \(mean) exact \(exact) se \(se)")
        }
        // The truncated series with one term is biased (it drops every higher power).
        let (oneTerm, _) = valueAndGradient(.truncated(1), .exact)
        #expect(Swift.abs(oneTerm - exactValue) > 1e-3)
    }

    /// Training steps advance the spectral norms; a checkpoint restores parameters and
    /// power-iteration vectors, so the reloaded model's log-densities are identical.
    @Test func checkpointRoundTrips() throws {
        let spec = ModelSpec.residualFlow(ResidualFlowConfiguration(dimension: 2, depth: 3, hidden: [16, 16]))
        var rng = RandomGenerator(seed: 1)
        let flow: AnyFlow<Float> = try spec.build(using: &rng)
        let optimizer = Adam(parameters: flow.parameters, learningRate: 1e-2)
        for i in 0..<3 {
            var stepRNG = RandomGenerator(seed: UInt64(i))
            let x = Variable(ToyDataset.eightGaussians.sample(64, using: &stepRNG) as Tensor<Float>)
            let grads = try withGradient { () throws -> [Tensor<Float>] in
                let loss = try flow.trainingLoss(x, using: &stepRNG).loss
                return gradients(of: loss, wrt: flow.parameters).map(\.value)
            }
            optimizer.step(gradients: grads)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resflow-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint<Float>.save(
            parameters: flow.namedParameters, metadata: ["model": spec.name, "configuration": try spec.jsonString()], to: url)
        let (loaded, loadedSpec, _) = try ModelStore.load(from: url)
        #expect(loadedSpec == spec)
        var pointsRNG = RandomGenerator(seed: 77)
        let points = Variable(ToyDataset.eightGaussians.sample(50, using: &pointsRNG) as Tensor<Float>)
        let a = try withoutGradient { try flow.logProbability(points).value }
        let b = try withoutGradient { try loaded.logProbability(points).value }
        #expect(a.scalars == b.scalars)
        #expect(flow.namedParameters.contains { $0.0.hasSuffix("weight_u") })
    }

    /// Bad settings name the field.
    @Test func configurationErrors() throws {
        for bad in [
            ResidualFlowConfiguration(dimension: 2, lipschitz: 1.0),
            ResidualFlowConfiguration(dimension: 2, depth: 0),
            ResidualFlowConfiguration(dimension: 2, logDeterminant: "lu"),
            ResidualFlowConfiguration(dimension: 2, terms: 0),
            ResidualFlowConfiguration(dimension: 2, trace: "hutchinson-rademacher"),
            ResidualFlowConfiguration(dimension: 784, logDeterminant: "exact"),
            ResidualFlowConfiguration(dimension: 2, inverseTolerance: 0),
        ] {
            #expect(throws: FlowError.self) { try bad.validate() }
        }
        #expect(ResidualFlowConfiguration(dimension: 2).trace == "exact")
        #expect(ResidualFlowConfiguration(dimension: 16).trace == "hutchinson")
    }
}
