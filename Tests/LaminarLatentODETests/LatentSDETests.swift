import Foundation
import Testing
@testable import LaminarLatentODE
import LaminarData
import LaminarNN
import LaminarSDE

/// The latent SDE: its ELBO's gradient against finite differences of the same noise (the
/// reparameterisation noise and the Brownian path are fixed by the generator's seed), the
/// adjoint against back-propagation, and its predictions.
@Suite struct LatentSDETests {
    static func model(gradient: String = "backprop", method: String = "midpoint", step: Double = 0.05) -> LatentSDE<Double> {
        var rng = RandomGenerator(seed: 5)
        let config = LatentConfiguration(
            kind: .latentSDE, features: 2, latent: 2, hidden: 6, rnnHidden: 4, observationStd: 0.5, sdeScheme: method,
            sdeStep: step, sdeGradient: gradient)
        return LatentSDE<Double>(config, using: &rng)
    }

    static func lossValue(_ model: LatentSDE<Double>, _ batch: SeriesBatch<Double>) throws -> Double {
        var rng = RandomGenerator(seed: 17)
        return try withoutGradient { try Double(model.loss(batch, using: &rng).loss.value.scalar) }
    }

    static func gradient(_ model: LatentSDE<Double>, _ batch: SeriesBatch<Double>) throws -> [Tensor<Double>] {
        var rng = RandomGenerator(seed: 17)
        return try withGradient {
            let terms = try model.loss(batch, using: &rng)
            return gradients(of: terms.loss, wrt: model.parameters).map(\.value)
        }
    }

    /// Every parameter tensor of encoder, drifts, diffusion and decoder gets the derivative of
    /// the same-noise loss, to 1e-5 relative (central differences, step 1e-6, in Double).
    @Test func elboGradientMatchesFiniteDifferences() throws {
        let model = Self.model()
        let batch = SeriesBatch<Double>(handSeries())
        let analytic = try Self.gradient(model, batch)
        var worst = 0.0
        for (p, g) in zip(model.parameters, analytic) {
            // Two elements of each tensor keep the test fast.
            for i in Set([0, p.count - 1]) {
                let original = p.value
                var s = original.scalars
                s[i] += 1e-6
                p.assign(Tensor(shape: original.shape, scalars: s))
                let plus = try Self.lossValue(model, batch)
                s[i] -= 2e-6
                p.assign(Tensor(shape: original.shape, scalars: s))
                let minus = try Self.lossValue(model, batch)
                p.assign(original)
                let numeric = (plus - minus) / 2e-6
                worst = max(worst, Swift.abs(numeric - g.scalars[i]) / max(1e-3, Swift.abs(numeric)))
            }
        }
        #expect(worst < 1e-5, "worst relative error \(worst)")
    }

    /// The stochastic adjoint's gradient approaches back-propagation's at a fine step.
    @Test func adjointGradientMatchesBackprop() throws {
        let batch = SeriesBatch<Double>(handSeries())
        let backprop = try Self.gradient(Self.model(gradient: "backprop", step: 0.002), batch)
        let adjoint = try Self.gradient(Self.model(gradient: "adjoint", step: 0.002), batch)
        var num = 0.0, den = 0.0
        for (a, b) in zip(adjoint, backprop) {
            for (x, y) in zip(a.scalars, b.scalars) { num += (x - y) * (x - y); den += y * y }
        }
        #expect((num / den).squareRoot() < 0.02, "relative difference \((num / den).squareRoot())")
    }

    /// Loss terms are finite; the KL term is non-negative; predictions average sample paths
    /// and are reproducible; the configuration rejects what the model cannot do.
    @Test func lossPredictionsAndValidation() throws {
        let model = Self.model()
        let examples = handSeries()
        var rng = RandomGenerator(seed: 3)
        let terms = try model.loss(SeriesBatch<Double>(examples), using: &rng)
        #expect(terms.loss.value.scalar.isFinite && terms.kl >= 0 && terms.nfe > 0)
        let queries = [[0.1, 0.9, 1.5], [0.4]]
        let paths = try model.samples(examples, at: queries, count: 5)
        #expect(paths.count == 2 && paths[0].count == 5 && paths[0][0].count == 3 && paths[1][0][0].count == 2)
        // Different samples differ (the diffusion is positive).
        #expect(paths[0][0][2] != paths[0][1][2])
        let first = try model.predict(examples, at: queries)
        #expect(try model.predict(examples, at: queries) == first)
        for bad in [
            LatentConfiguration(kind: .latentSDE, sdeScheme: "dopri5", sdeStep: 0.1),
            LatentConfiguration(kind: .latentSDE, sdeScheme: "midpoint", sdeStep: nil),
            LatentConfiguration(kind: .latentSDE, sdeScheme: "euler", sdeStep: 0.1, sdeGradient: "adjoint"),
            LatentConfiguration(kind: .latentSDE, sdeScheme: "midpoint", sdeStep: 0.1, sdeGradient: "checkpointed"),
        ] {
            #expect(throws: LatentError.self) { try bad.validate() }
        }
    }
}
