import Foundation
import Testing
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
