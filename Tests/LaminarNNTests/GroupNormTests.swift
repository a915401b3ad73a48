import Testing
import LaminarNN
import _LaminarTestSupport

/// The fused group normalisation against the same map written with differentiable operations,
/// and against central differences to first and second order, in Double.
@Suite struct GroupNormTests {
    /// [N, C, H, W] and the number of groups: odd sizes, one group, one channel per group, 1×1 maps.
    static let cases: [([Int], Int)] = [([2, 4, 3, 5], 2), ([1, 6, 1, 1], 3), ([3, 8, 7, 7], 1), ([2, 5, 4, 3], 5), ([1, 4, 2, 2], 4)]

    static func inputs(_ shape: [Int], seed: UInt64) -> [Tensor<Double>] {
        var rng = RandomGenerator(seed: seed)
        let x = Tensor<Double>.randomNormal(shape, using: &rng) * 2 + 0.5
        let gamma = Tensor<Double>.randomNormal([shape[1]], using: &rng) * 0.5 + 1
        let beta = Tensor<Double>.randomNormal([shape[1]], using: &rng)
        return [x, gamma, beta]
    }

    @Test(arguments: cases)
    func fusedKernelsMatchTheComposedMap(shape: [Int], groups: Int) throws {
        let values = Self.inputs(shape, seed: 3)
        let (fused, reference, gradsFused, gradsReference) = withGradient {
            let v = values.map { Variable($0, requiresGradient: true) }
            let a = groupNorm(v[0], weight: v[1], bias: v[2], groups: groups, epsilon: 1e-5)
            let b = composedGroupNorm(v[0], weight: v[1], bias: v[2], groups: groups, epsilon: 1e-5)
            var rng = RandomGenerator(seed: 5)
            let w = Tensor<Double>.randomNormal(shape, using: &rng)
            return (a.value, b.value, gradients(of: (a * w).sum(), wrt: v).map(\.value),
                    gradients(of: (b * w).sum(), wrt: v).map(\.value))
        }
        #expect(zip(fused.scalars, reference.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
        for (a, b) in zip(gradsFused, gradsReference) {
            #expect(a.shape == b.shape)
            #expect(zip(a.scalars, b.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-10 }, "\(a.scalars.prefix(4)) vs \(b.scalars.prefix(4))")
        }
    }

    @Test(arguments: cases)
    func gradientsMatchCentralDifferences(shape: [Int], groups: Int) throws {
        let f: ([Variable<Double>]) -> Variable<Double> = { v in groupNorm(v[0], weight: v[1], bias: v[2], groups: groups, epsilon: 1e-5) }
        let inputs = Self.inputs(shape, seed: 7)
        // The tight comparison is with the composed map (1e-10, above); central differences over
        // groups of up to 392 elements agree to ~1e-6 for either implementation.
        let first = checkGradient(f, at: inputs)
        #expect(first.maxError < 1e-5, "\(first)")
        let second = checkSecondOrderGradient(f, at: inputs)
        #expect(second.maxError < 1e-5, "\(second)")
    }

    @Test func floatMatchesDoubleAndNormalises() throws {
        let values = Self.inputs([4, 6, 5, 5], seed: 9)
        let d = groupNorm(Variable(values[0]), weight: Variable(Tensor<Double>(ones: [6])), bias: Variable(Tensor<Double>(zeros: [6])), groups: 3, epsilon: 0)
        // Every sample's group has mean 0 and variance 1.
        let grouped = d.value.scalars
        let m = 2 * 25
        for block in 0..<(4 * 3) {
            let slice = grouped[(block * m)..<((block + 1) * m)]
            let mean = slice.reduce(0, +) / Double(m)
            let variance = slice.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(m)
            #expect(Swift.abs(mean) < 1e-12 && Swift.abs(variance - 1) < 1e-12)
        }
        let xf = Tensor<Float>(shape: values[0].shape, scalars: values[0].scalars.map(Float.init))
        let f = groupNorm(Variable(xf), weight: Variable(Tensor<Float>(ones: [6])), bias: Variable(Tensor<Float>(zeros: [6])), groups: 3, epsilon: 0)
        #expect(zip(f.value.scalars, grouped).allSatisfy { Swift.abs(Double($0) - $1) < 1e-5 })
    }
}
