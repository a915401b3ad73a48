import Testing
import LaminarTensor
import _LaminarTestSupport

/// The kernels of the hand-derived MLP passes: activations with their first two derivatives,
/// fused products, accumulating matrix products.
@Suite struct FusedKernelTests {
    static let activations: [UnaryOp] = [.tanh, .sigmoid, .softplus, .relu, .elu, .swish, .scale(1)]

    /// φ and φ′, φ″ against central differences of the plain elementwise op (Double), away from
    /// the kinks of relu/elu.
    @Test(arguments: activations)
    func derivativesMatchCentralDifferences(_ op: UnaryOp) {
        let xs: [Double] = [-6, -2.5, -0.7, -0.1, 0.2, 0.9, 3, 7.5]
        let x = Tensor(xs)
        let (value, first, second) = x.activationDerivatives(op, second: true)
        let plain = x.map(op)
        #expect(isClose(value, plain, rtol: 1e-14, atol: 1e-15), "\(op) value")
        let h = 1e-5
        let numericFirst = (Tensor(xs.map { $0 + h }).map(op) - Tensor(xs.map { $0 - h }).map(op)) / h / 2
        #expect(isClose(first, numericFirst, rtol: 1e-8, atol: 1e-9), "\(op) first derivative")
        let forward = Tensor(xs.map { $0 + h }).activationDerivatives(op, second: false).first
        let backward = Tensor(xs.map { $0 - h }).activationDerivatives(op, second: false).first
        #expect(isClose(second!, (forward - backward) / h / 2, rtol: 1e-7, atol: 1e-9), "\(op) second derivative")
    }

    /// The Float kernels (fast approximations) agree with Double to single precision.
    @Test(arguments: activations)
    func floatKernelsAgreeWithDouble(_ op: UnaryOp) {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor<Double>.randomNormal([4096], using: &rng) * 4
        let d = x.activationDerivatives(op, second: true)
        let f = Tensor<Float>(x).activationDerivatives(op, second: true)
        #expect(maxAbsDifference(Tensor<Double>(f.value), d.value) < 2e-6 * (1 + d.value.scalars.map(Swift.abs).max()!))
        #expect(maxAbsDifference(Tensor<Double>(f.first), d.first) < 2e-6)
        #expect(maxAbsDifference(Tensor<Double>(f.second!), d.second!) < 4e-6)
    }

    @Test func productsAndAccumulation() {
        var rng = RandomGenerator(seed: 5)
        let a = Tensor<Double>.randomNormal([7, 5], using: &rng)
        let b = Tensor<Double>.randomNormal([7, 5], using: &rng)
        let c = Tensor<Double>.randomNormal([7, 5], using: &rng)
        #expect(Tensor.product(a, b) == a * b)
        #expect(isClose(Tensor.product(a, b, c), a * b * c, rtol: 1e-15, atol: 0))
        var acc = c
        acc.addProduct(a, b)
        #expect(isClose(acc, c + a * b, rtol: 1e-15, atol: 1e-16))
        acc.addProduct(a, b, c)
        #expect(isClose(acc, c + a * b + a * b * c, rtol: 1e-14, atol: 1e-15))
    }

    @Test func productPairStoresOrAccumulatesAndLeavesSharedCopiesAlone() {
        var rng = RandomGenerator(seed: 7)
        let (a, b, c, d, e) = (
            Tensor<Double>.randomNormal([9, 4], using: &rng), Tensor<Double>.randomNormal([9, 4], using: &rng),
            Tensor<Double>.randomNormal([9, 4], using: &rng), Tensor<Double>.randomNormal([9, 4], using: &rng),
            Tensor<Double>.randomNormal([9, 4], using: &rng))
        var fresh: Tensor<Double>? = nil
        let y = Tensor.productPair(a, b, c, d, accumulatingInto: &fresh)
        #expect(isClose(y, a * d, rtol: 1e-15, atol: 0))
        #expect(isClose(fresh!, a * b * c, rtol: 1e-15, atol: 0))
        let eBefore = e.scalars
        var accumulator: Tensor<Double>? = e  // shares e's storage: must copy, not write through
        let y2 = Tensor.productPair(a, b, c, d, accumulatingInto: &accumulator)
        #expect(isClose(y2, a * d, rtol: 1e-15, atol: 0))
        #expect(isClose(accumulator!, e + a * b * c, rtol: 1e-14, atol: 1e-15))
        #expect(e.scalars == eBefore)
        // Float agrees with Double.
        var floatAccumulator: Tensor<Float>? = Tensor<Float>(e)
        let yf = Tensor.productPair(
            Tensor<Float>(a), Tensor<Float>(b), Tensor<Float>(c), Tensor<Float>(d), accumulatingInto: &floatAccumulator)
        #expect(maxAbsDifference(Tensor<Double>(yf), a * d) < 1e-5)
        #expect(maxAbsDifference(Tensor<Double>(floatAccumulator!), e + a * b * c) < 1e-4)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func addMatmulAccumulates(transposeA: Bool, transposeB: Bool) {
        var rng = RandomGenerator(seed: 6)
        let (m, n, k) = (6, 4, 9)
        let a = Tensor<Double>.randomNormal(transposeA ? [k, m] : [m, k], using: &rng)
        let b = Tensor<Double>.randomNormal(transposeB ? [n, k] : [k, n], using: &rng)
        let start = Tensor<Double>.randomNormal([m, n], using: &rng)
        var out = start
        out.addMatmul(a, transposeA: transposeA, b, transposeB: transposeB)
        let expected = start + matmul(a, transposeA: transposeA, b, transposeB: transposeB)
        #expect(isClose(out, expected, rtol: 1e-13, atol: 1e-14))
    }
}
