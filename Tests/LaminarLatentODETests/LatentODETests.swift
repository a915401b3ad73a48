import Foundation
import Testing
import LaminarODE
@testable import LaminarLatentODE
import LaminarData
import LaminarNN
import _LaminarTestSupport

/// Two short hand-written series with different counts, times and one missing value.
func handSeries() -> [SeriesExample] {
    let a = IrregularSeries(id: "a", times: [0.2, 0.5, 1.1], values: [[1, 2], [0.5, -1], [2, 0]], mask: [[true, true], [true, false], [true, true]])
    let b = IrregularSeries(id: "b", times: [0.3, 0.5], values: [[-1, 1], [0, 3]], mask: [[true, true], [true, true]])
    let empty = IrregularSeries(id: "", times: [], values: [], mask: [])
    return [
        SeriesExample(observed: a, interpolation: a, extrapolation: empty, windowEnd: 1.2),
        SeriesExample(observed: b, interpolation: b, extrapolation: empty, windowEnd: 0.8),
    ]
}

/// Zeroes the last layer of the latent dynamics: dz/dt = 0, so z(t) = z₀.
func freezeDynamics<S>(_ model: LatentODE<S>) {
    let last = model.dynamics.field.layers.last!
    last.weight.assign(Tensor(zeros: last.weight.shape))
    last.bias!.assign(Tensor(zeros: last.bias!.shape))
}

@Suite struct LatentODETests {
    @Test func gaussianTermsMatchHandComputedValues() {
        let prediction = Variable(Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4]))
        let targets = Tensor<Double>(shape: [2, 2], scalars: [1.5, 2, 2, 5])
        let mask = Tensor<Double>(shape: [2, 2], scalars: [1, 0, 1, 1])
        let ll = gaussianLogLikelihood(prediction, targets: targets, mask: mask, std: 0.5).value.scalar
        // Residuals −0.5, 1, −1 → −½·2.25/0.25 − 3(½ log 2π + log ½).
        #expect(Swift.abs(ll - (-4.5 - 3 * (0.5 * Foundation.log(2 * Double.pi) + Foundation.log(0.5)))) < 1e-12)
        let kl = gaussianKL(
            mean: Variable(Tensor<Double>([0.5, -1])), logVariance: Variable(Tensor<Double>([0, Foundation.log(4)]))).value.scalar
        #expect(Swift.abs(kl - (0.125 + 0.5 * (1 + 4 - 1 - Foundation.log(4)))) < 1e-12)
    }

    @Test func batchLayoutPadsMasksAndBuildsTheUnionOfTimes() {
        let batch = SeriesBatch<Double>(handSeries())
        #expect(batch.count == 2 && batch.steps == 3 && batch.features == 2)
        #expect(batch.times == [0, 0.2, 0.3, 0.5, 0.8, 1.1, 1.2])
        #expect(batch.stepPresent[2].scalars == [1, 0])
        #expect(batch.stepTimes[2] == [1.1, 0.5])  // padded slot repeats the last time
        #expect(batch.stepMask[1].scalars == [1, 0, 1, 1])
        // Series b at t = 0.5 (union index 3): values 0, 3.
        #expect(batch.targets.scalars[(3 * 2 + 1) * 2] == 0 && batch.targets.scalars[(3 * 2 + 1) * 2 + 1] == 3)
        #expect(batch.events.scalars.reduce(0, +) == 5)
        #expect(batch.windowEnds.scalars[6 * 2 + 0] == 1 && batch.windowEnds.scalars[4 * 2 + 1] == 1)
        #expect(batch.observedValueCount == 9)
    }

    /// With frozen dynamics z(t) = z₀, so the ELBO is the decoder's Gaussian likelihood of every
    /// observed value at the constant prediction, minus the KL, written out with scalars.
    @Test func elboOfAFrozenTrajectoryEqualsTheHandComputedValue() throws {
        var rng = RandomGenerator(seed: 21)
        let config = LatentConfiguration(features: 2, latent: 3, hidden: 5, rnnHidden: 4, observationStd: 0.7, solve: SolveSettings(rtol: 1e-9, atol: 1e-9, gradient: .backprop))
        let model = LatentODE<Double>(config, using: &rng)
        freezeDynamics(model)
        let examples = handSeries()
        let batch = SeriesBatch<Double>(examples)
        let noise = Tensor<Double>.randomNormal([2, 3], using: &rng)
        let terms = try model.loss(batch, noise: noise)
        let (mean, logVariance, _, _) = try model.encode(batch)
        let z0 = mean.value.scalars.indices.map { mean.value.scalars[$0] + Foundation.exp(0.5 * logVariance.value.scalars[$0]) * noise.scalars[$0] }
        let xhat = model.decoder(Variable(Tensor(shape: [2, 3], scalars: z0))).value.scalars
        var ll = 0.0
        for (b, e) in examples.enumerated() {
            for j in e.observed.times.indices {
                for f in 0..<2 where e.observed.mask[j][f] {
                    let r = e.observed.values[j][f] - xhat[b * 2 + f]
                    ll += -0.5 * r * r / 0.49 - Foundation.log(0.7) - 0.5 * Foundation.log(2 * Double.pi)
                }
            }
        }
        var kl = 0.0
        for i in 0..<6 {
            let (m, lv) = (mean.value.scalars[i], logVariance.value.scalars[i])
            kl += 0.5 * (m * m + Foundation.exp(lv) - 1 - lv)
        }
        #expect(Swift.abs(terms.logLikelihood - ll / 2) < 1e-9)
        #expect(Swift.abs(terms.kl - kl / 2) < 1e-12)
        #expect(Swift.abs(terms.loss.value.scalar - (kl - ll) / 2) < 1e-9)
    }

    /// A constant intensity λ = softplus(b): the Poisson term of each series is
    /// n log λ − λ T (n events in the window [0, T]).
    @Test func poissonLikelihoodOfAConstantIntensityIsClosedForm() throws {
        var rng = RandomGenerator(seed: 4)
        let config = LatentConfiguration(features: 2, latent: 2, hidden: 4, rnnHidden: 3, poisson: true, solve: SolveSettings(rtol: 1e-10, atol: 1e-10, gradient: .backprop))
        let model = LatentODE<Double>(config, using: &rng)
        let intensity = model.dynamics.intensity!
        intensity.weight.assign(Tensor(zeros: intensity.weight.shape))
        intensity.bias!.assign(Tensor([0.3]))
        let terms = try model.loss(SeriesBatch<Double>(handSeries()), using: &rng)
        let lambda = Foundation.log(1 + Foundation.exp(0.3))
        let expected = ((3 * Foundation.log(lambda) - lambda * 1.2) + (2 * Foundation.log(lambda) - lambda * 0.8)) / 2
        #expect(Swift.abs(terms.poisson - expected) < 1e-8, "\(terms.poisson) vs \(expected)")
    }

    /// Gradients of the whole loss (encoder, ODE-RNN solves, latent solve, Poisson integral)
    /// agree between the adjoint and backpropagation through the solver.
    @Test(arguments: [LatentModelKind.latentODE, .odeRNN])
    func adjointAndBackpropGradientsAgree(kind: LatentModelKind) throws {
        func grads(_ gradient: GradientMethod) throws -> [Tensor<Double>] {
            var rng = RandomGenerator(seed: 9)
            let config = LatentConfiguration(
                kind: kind, features: 2, latent: 2, hidden: 5, rnnHidden: 3, poisson: kind == .latentODE,
                solve: SolveSettings(rtol: 1e-10, atol: 1e-10, gradient: gradient))
            let model = LatentODE<Double>(config, using: &rng)
            let noise = Tensor<Double>.randomNormal([2, 2], using: &rng)
            return try withGradient {
                let terms = try model.loss(SeriesBatch<Double>(handSeries()), noise: noise)
                return gradients(of: terms.loss, wrt: model.parameters).map(\.value)
            }
        }
        let adjoint = try grads(.adjoint), backprop = try grads(.backprop)
        #expect(adjoint.count == backprop.count)
        for (a, b) in zip(adjoint, backprop) {
            #expect(closeness(a, b, rtol: 1e-6, atol: 1e-8) <= 1, "max diff \(maxAbsDifference(a, b))")
        }
    }

    /// Backprop gradients against central differences of the loss for one encoder and one
    /// decoder weight (the noise fixed).
    @Test func gradientMatchesFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 12)
        let config = LatentConfiguration(kind: .odeRNN, features: 2, latent: 2, hidden: 4, rnnHidden: 3, solve: SolveSettings(rtol: 1e-11, atol: 1e-11, gradient: .backprop))
        let model = LatentODE<Double>(config, using: &rng)
        let batch = SeriesBatch<Double>(handSeries())
        let noise = Tensor<Double>.randomNormal([2, 2], using: &rng)
        let grads = try withGradient { try gradients(of: model.loss(batch, noise: noise).loss, wrt: model.parameters).map(\.value) }
        for (p, g) in zip(model.parameters, grads) {
            let base = p.value.scalars
            func loss(at value: Double) throws -> Double {
                var changed = base
                changed[0] = value
                p.assign(Tensor(shape: p.shape, scalars: changed))
                return try withoutGradient { try model.loss(batch, noise: noise).loss.value.scalar }
            }
            let h = 1e-6
            let up = try loss(at: base[0] + h), down = try loss(at: base[0] - h)
            p.assign(Tensor(shape: p.shape, scalars: base))
            let numeric = (up - down) / (2 * h)
            #expect(Swift.abs(numeric - g.scalars[0]) <= 1e-5 * Swift.max(1, Swift.abs(numeric)), "\(numeric) vs \(g.scalars[0])")
        }
    }

    /// Every model learns on a few spirals: the loss falls and predictions have the asked shape.
    @Test(arguments: [LatentModelKind.latentODE, .odeRNN, .rnn])
    func modelsLearnOnAFewSpirals(kind: LatentModelKind) throws {
        let data = try SpiralDataset(settings: .init(series: 16, points: 20, noise: 0.1, targets: 10), seed: 2)
        let config = LatentConfiguration(kind: kind, solve: SolveSettings(rtol: 1e-3, atol: 1e-3, gradient: .backprop))
        let model = try makeSeriesModel(config, seed: 1)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latent-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try LatentTrainer(
            model: model, options: LatentTrainingOptions(iterations: 40, loop: LoopSettings(batchSize: 16, learningRate: 1e-2, seed: 3, checkpointEvery: 40)),
            data: data.examples, directory: directory, metadata: ["model": "latent"])
        var losses: [Double] = []
        try trainer.train(progress: { losses.append($0.loss) })
        #expect(losses.count == 40)
        let first: Double = losses.prefix(5).reduce(0, +), last: Double = losses.suffix(5).reduce(0, +)
        #expect(last < 0.5 * first, "\(losses.prefix(5)) → \(losses.suffix(5))")
        let scores = try evaluateSeries(model, on: data.examples)
        #expect(scores.interpolationRMSE.isFinite && scores.extrapolationRMSE.isFinite)
        let predictions = try model.predict(Array(data.examples.prefix(3)), at: [[0, 1], [2], [0.5, 7, 8]])
        #expect(predictions.map { $0.count } == [2, 1, 3] && predictions.allSatisfy { $0.allSatisfy { $0.count == 2 } })
    }

    /// Resuming from a checkpoint continues exactly: the same parameters as an uninterrupted run.
    @Test func resumeContinuesExactly() throws {
        let data = try SpiralDataset(settings: .init(series: 8, points: 10, targets: 5), seed: 5)
        let config = LatentConfiguration(solve: SolveSettings(rtol: 1e-3, atol: 1e-3, gradient: .backprop))
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("latent-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        func trainer(_ name: String, iterations: Int) throws -> LatentTrainer {
            try LatentTrainer(
                model: try makeSeriesModel(config, seed: 1),
                options: LatentTrainingOptions(iterations: iterations, loop: LoopSettings(batchSize: 4, learningRate: 1e-2, seed: 2, checkpointEvery: 3)),
                data: data.examples, directory: base.appendingPathComponent(name), metadata: ["model": "latent"])
        }
        let whole = try trainer("whole", iterations: 6)
        try whole.train()
        try trainer("split", iterations: 3).train()
        let resumed = try trainer("split", iterations: 6)
        try resumed.resume()
        #expect(resumed.iteration == 3)
        try resumed.train()
        for (a, b) in zip(whole.model.parameters, resumed.model.parameters) { #expect(a.value == b.value) }
    }

    @Test func configurationErrorsNameTheFlag() {
        #expect(throws: LatentError.self) { try LatentConfiguration(kind: .rnn, poisson: true).validate() }
        #expect(throws: LatentError.self) { try LatentConfiguration(observationStd: 0).validate() }
        #expect(throws: LatentError.self) { try LatentConfiguration(solve: SolveSettings(rtol: -1)).validate() }
        #expect(throws: TrainingError.self) { try LatentTrainingOptions(iterations: 0).validate() }
    }

    /// The latent options: the loop settings reach the loop; the flat JSON of the options from
    /// before the loop settings were shared reads back with the new settings at their defaults.
    @Test func optionsCarryTheLoopSettings() throws {
        var options = LatentTrainingOptions(iterations: 30)
        (options.warmup, options.gradientClip, options.maxNFE, options.onDivergence) = (4, 0.5, 200, .restoreAndHalveLR)
        let loop = options.trainingOptions
        #expect(loop.iterations == 30 && loop.batchSize == 100 && loop.learningRate == 1e-2 && loop.weightDecay == 0)
        #expect(loop.warmup == 4 && loop.gradientClip == 0.5 && loop.maxNFE == 200 && loop.onDivergence == .restoreAndHalveLR)
        let old = #"{"batchSize":100,"checkpointEvery":100,"iterations":2000,"learningRate":0.01,"seed":0,"timeBudget":90}"#
        var expected = LatentTrainingOptions()
        expected.timeBudget = 90
        #expect(try JSONDecoder().decode(LatentTrainingOptions.self, from: Data(old.utf8)) == expected)
        #expect(try JSONDecoder().decode(LatentTrainingOptions.self, from: JSONEncoder().encode(options)) == options)
        #expect { try LatentTrainingOptions(loop: LoopSettings(batchSize: 4, gradientClip: -1)).validate() } throws: { "\($0)".contains("--clip") }
    }
}
