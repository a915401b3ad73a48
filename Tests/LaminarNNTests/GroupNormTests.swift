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

    /// Smallest |γ·x̂ + β| of the inputs: the ReLU's kink must be farther than the difference step.
    static func distanceFromKink(_ values: [Tensor<Double>], groups: Int) -> Double {
        groupNorm(Variable(values[0]), weight: Variable(values[1]), bias: Variable(values[2]), groups: groups, epsilon: 1e-5)
            .value.scalars.map(Swift.abs).min()!
    }

    @Test(arguments: cases)
    func fusedReLUMatchesTheComposedMap(shape: [Int], groups: Int) throws {
        let values = Self.inputs(shape, seed: 13)
        let (fused, reference, gradsFused, gradsReference) = withGradient {
            let v = values.map { Variable($0, requiresGradient: true) }
            let a = groupNorm(v[0], weight: v[1], bias: v[2], groups: groups, epsilon: 1e-5, activation: .relu)
            let b = relu(composedGroupNorm(v[0], weight: v[1], bias: v[2], groups: groups, epsilon: 1e-5))
            var rng = RandomGenerator(seed: 5)
            let w = Tensor<Double>.randomNormal(shape, using: &rng)
            return (a.value, b.value, gradients(of: (a * w).sum(), wrt: v).map(\.value),
                    gradients(of: (b * w).sum(), wrt: v).map(\.value))
        }
        // Both signs occur, so the mask is exercised.
        #expect(fused.scalars.contains(0) && fused.scalars.contains { $0 > 0 })
        #expect(zip(fused.scalars, reference.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
        for (a, b) in zip(gradsFused, gradsReference) {
            #expect(a.shape == b.shape)
            #expect(zip(a.scalars, b.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-10 }, "\(a.scalars.prefix(4)) vs \(b.scalars.prefix(4))")
        }
    }

    @Test(arguments: cases)
    func fusedReLUGradientsMatchCentralDifferences(shape: [Int], groups: Int) throws {
        let inputs = Self.inputs(shape, seed: 17)
        try #require(Self.distanceFromKink(inputs, groups: groups) > 1e-3)
        let f: ([Variable<Double>]) -> Variable<Double> = { v in
            groupNorm(v[0], weight: v[1], bias: v[2], groups: groups, epsilon: 1e-5, activation: .relu)
        }
        let first = checkGradient(f, at: inputs)
        #expect(first.maxError < 1e-5, "\(first)")
        let second = checkSecondOrderGradient(f, at: inputs)
        #expect(second.maxError < 1e-5, "\(second)")
    }

    /// The Float kernels (statistics on 16 lanes, masked sums in the backward pass) against the
    /// Double ones on groups with a tail that is not a multiple of 16 (3 × 61 elements).
    @Test(arguments: [Activation.identity, .relu])
    func floatKernelsMatchDouble(activation: Activation) throws {
        let values = Self.inputs([3, 6, 61, 1], seed: 19)
        var rng = RandomGenerator(seed: 23)
        let seed = Tensor<Double>.randomNormal([3, 6, 61, 1], using: &rng)
        func run<S: TensorScalar>(_: S.Type) -> [[Double]] {
            withGradient {
                let v = values.map { Variable(Tensor<S>(shape: $0.shape, scalars: $0.scalars.map { S($0) }), requiresGradient: true) }
                let y = groupNorm(v[0], weight: v[1], bias: v[2], groups: 2, epsilon: 1e-5, activation: activation)
                let w = Variable(Tensor<S>(shape: seed.shape, scalars: seed.scalars.map { S($0) }))
                return [y.value] + gradients(of: (y * w).sum(), wrt: v).map(\.value)
            }.map { $0.scalars.map { Double($0) } }
        }
        let single = run(Float.self), double = run(Double.self)
        for (a, b) in zip(single, double) {
            let scale = b.map(Swift.abs).max()!
            #expect(zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 2e-5 * Swift.max(scale, 1) })
        }
    }

    /// `Sequential` runs a normalisation followed by an activation as the fused operation, with
    /// parameter names unchanged (the activation keeps its slot).
    @Test func sequentialFusesNormalisationAndActivation() throws {
        let values = Self.inputs([2, 4, 3, 5], seed: 29)
        let norm = GroupNorm<Double>(groups: 2, channels: 4), last = GroupNorm<Double>(groups: 1, channels: 4)
        let stack = Sequential<Double>([.groupNorm(norm), .activation(.relu), .groupNorm(last)])
        #expect(stack.namedParameters.map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        let x = Variable(values[0])
        let fused = stack(x)
        let reference = last(relu(norm(x)))
        #expect(fused.value.scalars == reference.value.scalars)
    }
}

