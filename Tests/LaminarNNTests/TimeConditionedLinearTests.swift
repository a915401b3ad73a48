import Testing
import LaminarNN
import _LaminarTestSupport

/// The affine form `x W(t)ᵀ + b(t)` of the time-conditioned layers: the plain-tensor value and
/// the written-out pullback against the recorded graph of `affine(t:)`, in Double.
@Suite struct TimeConditionedLinearTests {
    static let names = ["concatsquash", "concat", "ignore"]

    static func make(_ index: Int, using rng: inout RandomGenerator) -> any AffineTimeConditionedLayer<Double> {
        switch index {
        case 0: return ConcatSquashLinear<Double>(inputSize: 4, outputSize: 3, using: &rng)
        case 1: return ConcatLinear<Double>(inputSize: 4, outputSize: 3, using: &rng)
        default: return IgnoreLinear<Double>(inputSize: 4, outputSize: 3, using: &rng)
        }
    }

    @Test(arguments: 0..<3)
    func valueAndPullbackMatchTheGraph(_ index: Int) {
        var rng = RandomGenerator(seed: 31)
        let name = Self.names[index]
        let layer = Self.make(index, using: &rng)
        let t = 0.73
        let graph = withGradient { layer.affine(t: Variable(Tensor(t))) }
        let value = layer.affineValue(t: t)
        #expect(isClose(value.weight, graph.weight.value, rtol: 1e-14, atol: 0), "\(name) weight")
        #expect(value.bias.map { isClose($0, graph.bias!.value, rtol: 1e-14, atol: 0) } ?? (graph.bias == nil), "\(name) bias")

        let weightSeed = Tensor<Double>.randomNormal(value.weight.shape, using: &rng)
        let biasSeed = value.bias.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
        let parameters = layer.namedParameters.map(\.1)
        let expected = withGradient {
            let a = layer.affine(t: Variable(Tensor(t)))
            var outputs = [a.weight], seeds = [Variable(weightSeed)]
            if let b = a.bias, let biasSeed {
                outputs.append(b)
                seeds.append(Variable(biasSeed))
            }
            return gradients(of: outputs, wrt: parameters, seeds: seeds).map(\.value)
        }
        let written = layer.affinePullback(t: t, weight: weightSeed, bias: biasSeed)
        #expect(written.count == parameters.count, "\(name): one gradient per parameter")
        for (i, (a, b)) in zip(written, expected).enumerated() {
            #expect(a.shape == b.shape && isClose(a, b, rtol: 1e-12, atol: 1e-14), "\(name) parameter \(i)")
        }
    }

    /// `callAsFunction` is `linear(x, W(t), b(t))` for every layer type.
    @Test(arguments: 0..<3)
    func outputIsTheAffineMap(_ index: Int) {
        var rng = RandomGenerator(seed: 2)
        let layer = Self.make(index, using: &rng)
        let x = Tensor<Double>.randomNormal([5, 4], using: &rng)
        let y = withoutGradient { layer(t: Variable(Tensor(0.4)), x: Variable(x)).value }
        let a = layer.affineValue(t: 0.4)
        var expected = matmul(x, a.weight, transposeB: true)
        if let b = a.bias { expected = expected + b }
        #expect(isClose(y, expected, rtol: 1e-13, atol: 1e-14))
    }
}
