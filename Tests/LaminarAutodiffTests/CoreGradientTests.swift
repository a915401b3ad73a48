import Testing
import LaminarAutodiff
import _LaminarTestSupport

/// Finite-difference checks of the core operations in Double. First-order tolerance 1e-6:
/// central differences with h = 1e-6 have truncation error O(h²) ≈ 1e-12 and rounding error
/// ≈ ε/h ≈ 1e-10 relative, so 1e-6 leaves a wide margin while catching any wrong rule.
/// Second-order checks difference a gradient (h = 1e-5), so 1e-5.
@Suite struct CoreGradientTests {
    var rng = RandomGenerator(seed: 42)

    @Test mutating func mlpLayerGradients() {
        let x = Tensor<Double>.randomNormal([5, 3], using: &rng)
        let w = Tensor<Double>.randomNormal([4, 3], using: &rng)
        let b = Tensor<Double>.randomNormal([4], using: &rng)
        let f: ([Variable<Double>]) -> Variable<Double> = { v in tanh(linear(v[0], weight: v[1], bias: v[2])) }
        let first = checkGradient(f, at: [x, w, b])
        #expect(first.maxError < 1e-6, "\(first)")
        let second = checkSecondOrderGradient(f, at: [x, w, b])
        #expect(second.maxError < 1e-5, "\(second)")
    }
}
