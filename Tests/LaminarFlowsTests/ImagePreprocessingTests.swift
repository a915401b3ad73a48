import Foundation
import Testing
import LaminarODE
@testable import LaminarFlows
import LaminarData
import _LaminarTestSupport

@Suite struct ImagePreprocessingTests {
    /// A 2×2 image under the identity flow with a standard-normal base: bits/dim written out by
    /// hand (u = ½, α = 1e-6) equals the library's.
    @Test func bitsPerDimOfTheIdentityFlowMatchesTheHandComputation() {
        let bytes: [UInt8] = [0, 128, 255, 7]
        let data = ImageDataset(images: bytes, labels: [0], count: 1, height: 2, width: 2)
        let pre = ImagePreprocessing(alpha: 1e-6)
        var rng = RandomGenerator(seed: 0)
        let (y, logDet): (Tensor<Double>, Tensor<Double>) = pre.transform(data, indices: [0], noise: false, using: &rng)
        var logP = 0.0, hand = 0.0
        for (k, b) in bytes.enumerated() {
            let s = 1e-6 + (1 - 2e-6) * (Double(b) + 0.5) / 256
            let yk = Foundation.log(s / (1 - s))
            #expect(Swift.abs(y.scalars[k] - yk) < 1e-12)
            logP += -0.5 * yk * yk - 0.5 * Foundation.log(2 * Double.pi)
            hand += Foundation.log((1 - 2e-6) / (s * (1 - s))) - Foundation.log(256)
        }
        #expect(Swift.abs(logDet.scalars[0] - hand) < 1e-9)
        let bpd = ImagePreprocessing.bitsPerDimension(logProbability: logP, logDeterminant: logDet.scalars[0], dimension: 4)
        #expect(Swift.abs(bpd - (-(logP + hand) / (4 * Foundation.log(2)))) < 1e-12)
        // Sanity: the uniform density on [0, 256)^D is exactly 8 bits/dim.
        #expect(Swift.abs(ImagePreprocessing.bitsPerDimension(logProbability: 0, logDeterminant: -4 * Foundation.log(256), dimension: 4) - 8) < 1e-12)
    }

    /// The per-pixel log-derivative against a central difference, and the inverse map.
    @Test func logitJacobianAndInverseAreExact() {
        let pre = ImagePreprocessing(alpha: 0.05)
        for pixel in [0.3, 17.2, 128.0, 255.9] {
            let (y, logJ) = pre.forward(pixel)
            let h = 1e-5
            let numeric = (pre.forward(pixel + h).0 - pre.forward(pixel - h).0) / (2 * h) * 256
            #expect(Swift.abs(Foundation.log(numeric) - logJ) < 1e-7)
            #expect(Swift.abs(pre.pixels(Tensor<Double>([y]))[0] - pixel / 256) < 1e-12)
        }
    }

    @Test func squeezeFactorOutAndTheirInversesAreExact() {
        var rng = RandomGenerator(seed: 1)
        let x = Variable(Tensor<Double>.randomNormal([2, 3, 4, 6], using: &rng))
        let s = MultiscaleReshape.squeeze(x)
        #expect(s.shape == [2, 12, 2, 3])
        #expect(MultiscaleReshape.unsqueeze(s).value == x.value)
        // Channel 4c + 2i + j at (r, q) holds pixel (2r + i, 2q + j) of channel c.
        let (c, i, j, r, q) = (1, 1, 0, 1, 2)
        let squeezed = s.value.scalars[((0 * 12 + 4 * c + 2 * i + j) * 2 + r) * 3 + q]
        let original = x.value.scalars[((0 * 3 + c) * 4 + 2 * r + i) * 6 + 2 * q + j]
        #expect(squeezed == original)
        let (kept, factored) = MultiscaleReshape.factorOut(s, kept: 6)
        #expect(kept.shape == [2, 6, 2, 3] && factored.shape == [2, 6, 2, 3])
        #expect(MultiscaleReshape.merge(kept, factored).value == s.value)
        // Permutations: gradients route each entry back to itself.
        let g = withGradient {
            let v = Variable(x.value, requiresGradient: true)
            let w = Tensor<Double>.randomNormal([2, 12, 2, 3], using: &rng)
            return (gradients(of: (MultiscaleReshape.squeeze(v) * w).sum(), wrt: [v])[0].value, w)
        }
        #expect(MultiscaleReshape.squeeze(Variable(g.0)).value == g.1)
    }
}

/// log|det| of an n×n matrix by Gaussian elimination with partial pivoting.
func logAbsDeterminant(_ m: [Double], _ n: Int) -> Double {
    var a = m
    var total = 0.0
    for col in 0..<n {
        let pivot = (col..<n).max { Swift.abs(a[$0 * n + col]) < Swift.abs(a[$1 * n + col]) }!
        if pivot != col { for j in 0..<n { a.swapAt(pivot * n + j, col * n + j) } }
        let p = a[col * n + col]
        total += Foundation.log(Swift.abs(p))
        for r in (col + 1)..<n {
            let f = a[r * n + col] / p
            for j in col..<n { a[r * n + j] -= f * a[col * n + j] }
        }
    }
    return total
}

@Suite struct MultiscaleCNFTests {
    func tinyModel(gradient: GradientMethod = .backprop) throws -> MultiscaleCNF<Double> {
        var rng = RandomGenerator(seed: 8)
        let config = MultiscaleCNFConfiguration(
            channels: 1, height: 4, width: 4, scales: 2, blocksPerScale: 1, hidden: [3], trace: "exact",
            timeLength: 0.5, solve: SolveSettings(rtol: 1e-10, atol: 1e-10, gradient: gradient))
        let model = try MultiscaleCNF<Double>(config, using: &rng)
        // Larger weights than the initialisation so that the flow is far from the identity.
        for p in model.parameters where p.rank > 1 { p.assign(p.value * 3) }
        return model
    }

    /// The exact-trace log-determinant of the whole multiscale transport (CNF blocks, squeeze,
    /// factor-out) equals log|det| of its autodiff Jacobian, and inverse ∘ forward = identity.
    @Test func logDeterminantMatchesTheJacobianAndTheInverseIsExact() throws {
        let model = try tinyModel()
        #expect(model.stages.count == 2 && model.allBlocks.count == 3)
        var rng = RandomGenerator(seed: 2)
        let x = Tensor<Double>.randomNormal([2, 16], using: &rng)
        let out = try withoutGradient { try model.forward(Variable(x)) }
        for row in 0..<2 {
            let xi = Tensor<Double>(shape: [1, 16], scalars: Array(x.scalars[(row * 16)..<(row * 16 + 16)]))
            let j = jacobian(of: { try! model.forward($0).value }, at: xi)
            let expected = logAbsDeterminant(j.scalars, 16)
            #expect(Swift.abs(out.logDeterminant.value.scalars[row] - expected) < 1e-6,
                    "row \(row): \(out.logDeterminant.value.scalars[row]) vs \(expected)")
        }
        #expect(Swift.abs(out.logDeterminant.value.scalars[0]) > 0.1)  // far from volume-preserving
        let back = try withoutGradient { try model.inverse(out.value) }
        #expect(maxAbsDifference(back.value.value, x) < 1e-7)
        #expect(maxAbsDifference(back.logDeterminant.value, -out.logDeterminant.value) < 1e-7)
    }

    /// The density of a multiscale CNF is normalised like any flow's: sampling and the
    /// training loss run, and the Hutchinson loss is an unbiased estimate of the exact NLL.
    @Test func hutchinsonLossIsUnbiasedAndSamplingRuns() throws {
        var rng = RandomGenerator(seed: 3)
        let config = MultiscaleCNFConfiguration(
            channels: 1, height: 4, width: 4, scales: 2, blocksPerScale: 1, hidden: [3], trace: "hutchinson-rademacher",
            timeLength: 0.5, solve: SolveSettings(rtol: 1e-8, atol: 1e-8))
        let model = try MultiscaleCNF<Double>(config, using: &rng)
        for p in model.parameters where p.rank > 1 { p.assign(p.value * 3) }
        let x = Tensor<Double>.randomNormal([4, 16], using: &rng)
        let exact = try withoutGradient { -(try model.logProbability(Variable(x))).mean().value.scalar }
        var estimates: [Double] = []
        for _ in 0..<200 { estimates.append(try withoutGradient { try model.trainingLoss(Variable(x), using: &rng).nll }) }
        let mean = estimates.reduce(0, +) / 200
        let sd = (estimates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 199).squareRoot()
        #expect(Swift.abs(mean - exact) < 4 * sd / Foundation.sqrt(200) + 1e-9, "\(mean) ± \(sd / Foundation.sqrt(200)) vs \(exact)")
        let samples = try model.sample(3, using: &rng)
        #expect(samples.shape == [3, 16] && samples.isFinite)
    }

    @Test func oddImageSidesAreRejectedForMoreScales() {
        var rng = RandomGenerator(seed: 0)
        #expect(throws: FlowError.self) {
            try MultiscaleCNF<Double>(MultiscaleCNFConfiguration(height: 6, width: 6, scales: 3), using: &rng)
        }
    }
}
