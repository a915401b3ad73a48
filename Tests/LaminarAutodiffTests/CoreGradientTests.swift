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

/// Graphs far deeper than the stack: gradient traversal and teardown are both iterative.
@Suite struct DeepGraphTests {
    @Test func aChainOfTwoHundredThousandOperationsDifferentiatesAndDeallocates() {
        let w = Variable(Tensor<Double>(shape: [2, 2], scalars: [0.1, -0.2, 0.05, 0.1]), requiresGradient: true)
        let n = 100_000
        let g: Tensor<Double> = withGradient {
            var h = Variable(Tensor<Double>(shape: [1, 2], scalars: [0.3, -0.4]))
            for _ in 0..<n { h = h + matmul(h, w) * 1e-5 }  // two recorded operations per step
            return gradients(of: h.sum(), wrt: [w])[0].value
        }
        // h_n = h_0 (I + εW)^n ≈ h_0 exp(nεW); the gradient is finite and nonzero.
        #expect(g.isFinite && g.scalars.contains { $0 != 0 })
    }
}
