import Testing
@testable import LaminarTensor
import _LaminarTestSupport

/// The group-normalisation kernels split over blocks of samples.
@Suite struct NormalizationKernelTests {
    /// Two threads give the same output and `dx` as one (each sample is normalised by the same
    /// serial loop), and `dγ`, `dβ` up to the order of the per-block sums; with and without the
    /// fused ReLU (whose β every block reads whole).
    @Test(arguments: [false, true])
    func blocksOfSamplesOnTwoThreadsMatchOneThread(rectify: Bool) {
        var rng = RandomGenerator(seed: 12)
        let x = Tensor<Double>.randomNormal([9, 8, 6, 6], using: &rng) * 2 + 1
        let dy = Tensor<Double>.randomNormal(x.shape, using: &rng)
        let gamma = Tensor<Double>.randomNormal([8], using: &rng), beta = Tensor<Double>.randomNormal([8], using: &rng)
        func run(_ threads: Int) -> [Tensor<Double>] {
            RowParallel.$threadCount.withValue(threads) {
                // 9 × 8 × 6 × 6 is below the parallel threshold; tile the batch so that it is above.
                let big = Tensor.concatenate(Array(repeating: x, count: 16), axis: 0)
                let bigDy = Tensor.concatenate(Array(repeating: dy, count: 16), axis: 0)
                let (y, xhat, r) = Tensor.groupNorm(big, weight: gamma, bias: beta, groups: 4, epsilon: 1e-5, rectify: rectify)
                let (dx, dg, db) = Tensor.groupNormBackward(
                    bigDy, normalized: xhat, reciprocalStd: r, weight: gamma, groups: 4, rectifiedBias: rectify ? beta : nil)
                return [y, dx, dg, db]
            }
        }
        let one = run(1), two = run(2)
        #expect(one[0].count >= groupNormParallelElements)
        #expect(one[0].scalars == two[0].scalars)
        #expect(one[1].scalars == two[1].scalars)
        // Sums of 16·9·36 terms in a different order: relative 1e-12.
        #expect(closeness(one[2], two[2], rtol: 1e-12, atol: 1e-12) <= 1)
        #expect(closeness(one[3], two[3], rtol: 1e-12, atol: 1e-12) <= 1)
    }
}
