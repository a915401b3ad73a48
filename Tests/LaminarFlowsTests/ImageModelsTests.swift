import Foundation
import Testing
import LaminarODE
@testable import LaminarFlows
import LaminarData
import LaminarNN
import _LaminarTestSupport

/// A tiny set of 4×4 grey-scale images with some structure.
func tinyImages(_ count: Int, side: Int = 4) -> ImageDataset {
    var rng = RandomGenerator(seed: 77)
    var pixels: [UInt8] = []
    for i in 0..<count {
        for r in 0..<side {
            for c in 0..<side {
                let base = (r + c + i) % 3 == 0 ? 220.0 : 20.0
                pixels.append(UInt8(max(0, min(255, base + 30 * rng.uniform()))))
            }
        }
    }
    return ImageDataset(images: pixels, labels: [UInt8](repeating: 0, count: count), count: count, height: side, width: side)
}

@Suite struct ImageRealNVPTests {
    func tinyModel() throws -> ImageRealNVP<Double> {
        var rng = RandomGenerator(seed: 5)
        let model = try ImageRealNVP<Double>(
            ImageRealNVPConfiguration(channels: 1, height: 4, width: 4, scales: 2, couplingsPerStage: 2, hidden: [3]),
            using: &rng)
        // Move away from the identity the zero-initialised last layers give.
        for p in model.parameters where p.rank == 4 {
            p.assign(p.value + Tensor<Double>.randomNormal(p.shape, using: &rng) * 0.3)
        }
        return model
    }

    /// Checkerboard and channel-wise couplings, squeeze and factor-out: the log-determinant
    /// equals log|det| of the autodiff Jacobian, and inverse ∘ forward is the identity.
    @Test func logDeterminantMatchesTheJacobianAndTheInverseIsExact() throws {
        let model = try tinyModel()
        #expect(model.stages.count == 2 && model.stages[0].after.count == 2 && model.stages[1].before.count == 3)
        var rng = RandomGenerator(seed: 6)
        let x = Tensor<Double>.randomNormal([3, 16], using: &rng)
        let out = try withoutGradient { try model.forward(Variable(x)) }
        for row in 0..<3 {
            let xi = Tensor<Double>(shape: [1, 16], scalars: Array(x.scalars[(row * 16)..<(row * 16 + 16)]))
            let j = jacobian(of: { try! model.forward($0).value }, at: xi)
            let expected = logAbsDeterminant(j.scalars, 16)
            #expect(Swift.abs(out.logDeterminant.value.scalars[row] - expected) < 1e-9,
                    "row \(row): \(out.logDeterminant.value.scalars[row]) vs \(expected)")
        }
        #expect(Swift.abs(out.logDeterminant.value.scalars[0]) > 0.05)
        let back = try withoutGradient { try model.inverse(out.value) }
        #expect(maxAbsDifference(back.value.value, x) < 1e-10)
        #expect(maxAbsDifference(back.logDeterminant.value, -out.logDeterminant.value) < 1e-10)
    }

    /// The masks: checkerboards alternate, channel masks take one half of the channels.
    @Test func masksPartitionThePixels() {
        let a = ImageCoupling<Double>.checkerboard(1, 4, 4, parity: 0).scalars
        let b = ImageCoupling<Double>.checkerboard(1, 4, 4, parity: 1).scalars
        #expect(zip(a, b).allSatisfy { $0 + $1 == 1 } && a.reduce(0, +) == 8)
        let c = ImageCoupling<Double>.channelwise(4, 2, 2, parity: 0).scalars
        #expect(c == [Double](repeating: 1, count: 8) + [Double](repeating: 0, count: 8))
        // A corrupt configuration cannot ask for astronomically large masks.
        #expect(throws: FlowError.self) { try ImageRealNVPConfiguration(height: 1 << 20, width: 1 << 20).validate() }
        #expect(throws: FlowError.self) { try MultiscaleCNFConfiguration(channels: Int.max / 2, height: 4, width: 4).validate() }
    }

    /// The likelihood gradient of every parameter agrees with central differences.
    @Test func likelihoodGradientsMatchFiniteDifferences() throws {
        let model = try tinyModel()
        var rng = RandomGenerator(seed: 9)
        let x = Tensor<Double>.randomNormal([2, 16], using: &rng)
        let loss = { () -> Variable<Double> in -(try! model.logProbability(Variable(x))).mean() }
        let analytic = withGradient { gradients(of: loss(), wrt: model.parameters) }
        for (p, g) in zip(model.parameters, analytic) {
            for k in Swift.stride(from: 0, to: p.count, by: Swift.max(1, p.count / 4)) {
                let original = p.value
                var up = original.scalars, down = original.scalars
                up[k] += 1e-6
                down[k] -= 1e-6
                p.assign(Tensor(shape: original.shape, scalars: up))
                let fUp = withoutGradient { loss().value.scalar }
                p.assign(Tensor(shape: original.shape, scalars: down))
                let fDown = withoutGradient { loss().value.scalar }
                p.assign(original)
                let numeric = (fUp - fDown) / 2e-6
                #expect(Swift.abs(numeric - g.value.scalars[k]) < 1e-6 * Swift.max(1, Swift.abs(numeric)))
            }
        }
    }
}

@Suite struct ImageTrainingTests {
    /// Image batches depend only on (seed, iteration): dequantization noise differs between
    /// iterations, and the returned log-determinant is the preprocessing's.
    @Test func imageBatchesAreSeededAndCarryTheirLogDeterminant() {
        let data = tinyImages(10)
        let source = BatchSource<Double>.images(data, ImagePreprocessing())
        let a = source.batchWithLogDeterminant(iteration: 3, size: 4, seed: 1)
        let b = source.batchWithLogDeterminant(iteration: 3, size: 4, seed: 1)
        let c = source.batchWithLogDeterminant(iteration: 4, size: 4, seed: 1)
        #expect(a.batch.shape == [4, 16] && a.batch.scalars == b.batch.scalars && a.logDeterminant == b.logDeterminant)
        #expect(a.batch.scalars != c.batch.scalars)
        // Recompute iteration 3 by hand: the same rows and noise stream.
        let rows = BatchSource<Double>.epochRows(count: 10, size: 4, iteration: 3, seed: 1)
        var rng = RandomGenerator(seed: mix(1, 3, 0xD7))
        let (y, logDet): (Tensor<Double>, Tensor<Double>) = ImagePreprocessing().transform(data, indices: rows, using: &rng)
        #expect(y.scalars == a.batch.scalars)
        #expect(Swift.abs(logDet.scalars.reduce(0, +) / 4 - a.logDeterminant) < 1e-9)
        #expect(source.dimension == 16)
    }

    /// `imageBitsPerDimension` of an identity flow (a fresh Real NVP) equals the hand
    /// computation −(log N(y) + log|dy/dx̃|)/(D log 2) with the same dequantization noise.
    @Test func bitsPerDimensionOfAnIdentityFlowMatchesTheHandComputation() throws {
        let data = tinyImages(7)
        var rng = RandomGenerator(seed: 1)
        let identity = try ImageRealNVP<Double>(
            ImageRealNVPConfiguration(channels: 1, height: 4, width: 4, scales: 2, couplingsPerStage: 1, hidden: [2]), using: &rng)
        let result = try Evaluation.imageBitsPerDimension(
            identity, data: data, indices: Array(0..<7), preprocessing: ImagePreprocessing(), batchSize: 3, seed: 42)
        var noise = RandomGenerator(seed: 42)
        var expected: [Double] = []
        for batch in [[0, 1, 2], [3, 4, 5], [6]] {
            let (y, logDet): (Tensor<Double>, Tensor<Double>) = ImagePreprocessing().transform(data, indices: batch, using: &noise)
            for (k, _) in batch.enumerated() {
                let row = y.scalars[(k * 16)..<(k * 16 + 16)]
                let logN = row.reduce(0) { $0 - 0.5 * $1 * $1 - 0.5 * Foundation.log(2 * Double.pi) }
                expected.append(-(logN + logDet.scalars[k]) / (16 * Foundation.log(2.0)))
            }
        }
        #expect(result.exactTrace && result.draws == 1)
        #expect(maxAbsDifference(Tensor(result.perImage), Tensor(expected)) < 1e-9)
        let mean = expected.reduce(0, +) / 7
        #expect(Swift.abs(result.bitsPerDimension - mean) < 1e-9)
    }

    /// For a CNF on images the evaluation uses Hutchinson's estimator; averaged over draws it
    /// matches the exact log-determinant within its standard error.
    @Test func hutchinsonEvaluationIsUnbiased() throws {
        var rng = RandomGenerator(seed: 3)
        let config = MultiscaleCNFConfiguration(
            channels: 1, height: 4, width: 4, scales: 2, blocksPerScale: 1, hidden: [3], timeLength: 0.5,
            solve: SolveSettings(rtol: 1e-8, atol: 1e-8))
        let model = try MultiscaleCNF<Double>(config, using: &rng)
        for p in model.parameters where p.rank > 1 { p.assign(p.value * 3) }
        let x = Tensor<Double>.randomNormal([2, 16], using: &rng)
        let exact = try withoutGradient { try model.forward(Variable(x)).logDeterminant.value.scalars }
        var draws: [[Double]] = []
        for _ in 0..<150 {
            draws.append(try withoutGradient { try model.estimatedForward(Variable(x), using: &rng).logDeterminant.value.scalars })
        }
        for row in 0..<2 {
            let values = draws.map { $0[row] }
            let mean = values.reduce(0, +) / 150
            let se = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 149 / 150).squareRoot()
            #expect(se > 0 && Swift.abs(mean - exact[row]) < 4 * se, "row \(row): \(mean) ± \(se) vs \(exact[row])")
        }
        var other = RandomGenerator(seed: 0)
        let full = try MultiscaleCNF<Double>(MultiscaleCNFConfiguration(height: 28, width: 28), using: &other)
        #expect(model.exactLogDeterminantIsAffordable && !full.exactLogDeterminantIsAffordable)
    }

    /// RNODE on the multiscale CNF: the loss is the NLL plus λ_K·kinetic + λ_J·Jacobian, both
    /// positive, and the gradient reaches every parameter.
    @Test func rnodeRegularizersEnterTheLoss() throws {
        var rng = RandomGenerator(seed: 4)
        let config = MultiscaleCNFConfiguration(
            channels: 1, height: 4, width: 4, scales: 2, blocksPerScale: 1, hidden: [3], timeLength: 0.5,
            solve: SolveSettings(rtol: 1e-6, atol: 1e-6, gradient: .backprop), kineticWeight: 0.1, jacobianWeight: 0.2)
        let model = try MultiscaleCNF<Double>(config, using: &rng)
        let x = Tensor<Double>.randomNormal([3, 16], using: &rng)
        let objective = try withGradient { try model.trainingLoss(Variable(x), using: &rng) }
        let k = try #require(objective.regularizers["kinetic"]), j = try #require(objective.regularizers["jacobian"])
        #expect(k > 0 && j > 0)
        #expect(Swift.abs(objective.loss.value.scalar - (objective.nll + 0.1 * k + 0.2 * j)) < 1e-9)
        let grads = withGradient { gradients(of: objective.loss, wrt: model.parameters) }
        #expect(grads.allSatisfy { $0.value.isFinite } && grads.contains { $0.value.scalars.contains { $0 != 0 } })
        #expect(throws: FlowError.self) {
            try MultiscaleCNFConfiguration(height: 4, width: 4, trace: "exact", jacobianWeight: 0.1).validate()
        }
    }

    /// `timeBudget` stops training cleanly with a checkpoint; the elapsed time survives a
    /// resume, so a resumed run with the budget already spent stops at once.
    @Test func timeBudgetStopsCleanlyAndCountsAcrossResumes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-budget-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let spec = ModelSpec.imageRealNVP(ImageRealNVPConfiguration(channels: 1, height: 4, width: 4, scales: 2, couplingsPerStage: 1, hidden: [4]))
        let options = TrainingOptions(iterations: 1_000_000, batchSize: 4, seed: 1, checkpointEvery: 1_000, timeBudget: 0.3)
        let source = BatchSource<Float>.images(tinyImages(12), ImagePreprocessing())
        let first = try TrainingSession(spec: spec, options: options, source: source, dataName: "tiny", directory: directory, resume: false)
        var bits: [Double] = []
        try first.trainer.train(progress: { bits.append($0.bits_per_dim ?? .nan) })
        #expect(first.trainer.stoppedAtTimeBudget && first.trainer.iteration > 0 && first.trainer.iteration < 1_000_000)
        #expect(first.trainer.elapsedSeconds >= 0.3 && bits.allSatisfy(\.isFinite))
        let stored = try Checkpoint<Float>.load(from: first.trainer.checkpointURL)
        #expect(stored.metadata["iteration"] == String(first.trainer.iteration))
        #expect((Double(stored.metadata["elapsed_seconds"] ?? "") ?? 0) >= 0.3)
        let second = try TrainingSession(spec: spec, options: options, source: source, dataName: "tiny", directory: directory, resume: true)
        try second.trainer.train()
        #expect(second.trainer.stoppedAtTimeBudget && second.trainer.iteration == first.trainer.iteration)
    }
}
