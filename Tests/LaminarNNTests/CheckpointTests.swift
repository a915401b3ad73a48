import Foundation
import Testing
import LaminarNN
import _LaminarTestSupport

@Suite struct CheckpointTests {
    func model(seed: UInt64) -> ConcatSquashLinear<Float> {
        var rng = RandomGenerator(seed: seed)
        return ConcatSquashLinear(inputSize: 3, outputSize: 4, using: &rng)
    }

    func gradients(_ layer: ConcatSquashLinear<Float>) -> [Tensor<Float>] {
        withGradient {
            var rng = RandomGenerator(seed: 5)
            let x = Variable(Tensor<Float>.randomNormal([6, 3], using: &rng))
            let loss = square(layer(t: Variable(Tensor(0.3)), x: x)).sum()
            return LaminarAutodiff.gradients(of: loss, wrt: layer.parameters).map(\.value)
        }
    }

    @Test func saveLoadGivesIdenticalParametersAndNextStep() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("c.safetensors")
        let a = model(seed: 1)
        let adamA = Adam(parameters: a.parameters, learningRate: 1e-2, weightDecay: 1e-4)
        adamA.step(gradients: gradients(a))
        try Checkpoint.save(parameters: a.namedParameters, optimizerState: adamA.state(prefix: "optimizer."),
                            metadata: ["iteration": "1"], to: url)
        let b = model(seed: 2)
        let adamB = Adam(parameters: b.parameters, learningRate: 1e-2, weightDecay: 1e-4)
        let checkpoint = try Checkpoint<Float>.load(from: url)
        try checkpoint.restore(parameters: b.namedParameters)
        try adamB.load(state: checkpoint.optimizerState(prefix: "optimizer."))
        for (p, q) in zip(a.parameters, b.parameters) { #expect(p.value == q.value) }
        adamA.step(gradients: gradients(a))
        adamB.step(gradients: gradients(b))
        // Same parameters, moments and step count: the next update is bit-identical.
        for (p, q) in zip(a.parameters, b.parameters) { #expect(p.value == q.value) }
        #expect(checkpoint.metadata["iteration"] == "1")
    }

    @Test func loadingIntoADifferentModelNamesTheTensor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("c.safetensors")
        try Checkpoint.save(parameters: model(seed: 1).namedParameters, metadata: [:], to: url)
        var rng = RandomGenerator(seed: 3)
        let wider = ConcatSquashLinear<Float>(inputSize: 3, outputSize: 5, using: &rng)
        let checkpoint = try Checkpoint<Float>.load(from: url)
        #expect(throws: CheckpointError.shapeMismatch(name: "_layer.weight", expected: [5, 3], found: [4, 3])) {
            try checkpoint.restore(parameters: wider.namedParameters)
        }
        let plain = Linear<Float>(inputSize: 3, outputSize: 4, using: &rng)
        #expect(throws: CheckpointError.self) { try checkpoint.restore(parameters: plain.namedParameters) }
    }

    @Test func interruptedSaveLeavesThePreviousCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("c.safetensors")
        let layer = model(seed: 1)
        try Checkpoint.save(parameters: layer.namedParameters, metadata: ["iteration": "10"], to: url)
        // A save killed before its rename leaves only a partial temporary file.
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent(".c.safetensors.tmp-999"))
        let checkpoint = try Checkpoint<Float>.load(from: url)
        #expect(checkpoint.metadata["iteration"] == "10")
    }
}

@Suite struct LayerAndOptimizerTests {
    @Test func concatSquashLinearMatchesItsFormula() {
        var rng = RandomGenerator(seed: 4)
        let layer = ConcatSquashLinear<Double>(inputSize: 2, outputSize: 3, using: &rng)
        let x = Tensor<Double>(shape: [1, 2], scalars: [0.5, -1])
        let t = 0.7
        let y = layer(t: Variable(Tensor(t)), x: Variable(x)).value
        let w = layer.layer.weight.value, b = layer.layer.bias!.value
        let gw = layer.hyperGate.weight.value, gb = layer.hyperGate.bias!.value, bw = layer.hyperBias.weight.value
        for j in 0..<3 {
            let affine = w[j, 0] * 0.5 - w[j, 1] + b[j]
            let gate = 1 / (1 + Foundation.exp(-(gw[j, 0] * t + gb[j])))
            #expect(Swift.abs(y[0, j] - (affine * gate + bw[j, 0] * t)) < 1e-14)
        }
    }

    @Test func linearInitialisationFollowsPyTorch() {
        var rng = RandomGenerator(seed: 5)
        let layer = Linear<Double>(inputSize: 16, outputSize: 8, using: &rng)
        // U(−1/√16, 1/√16) for weights and biases.
        #expect(layer.weight.value.scalars.allSatisfy { Swift.abs($0) <= 0.25 })
        #expect(layer.bias!.value.scalars.allSatisfy { Swift.abs($0) <= 0.25 })
        var again = RandomGenerator(seed: 5)
        #expect(Linear<Double>(inputSize: 16, outputSize: 8, using: &again).weight.value == layer.weight.value)
    }

    @Test func adamMatchesHandComputedSteps() {
        let p = Variable(Tensor<Double>([1.0]), requiresGradient: true)
        let adam = Adam(parameters: [p], learningRate: 0.1)
        adam.step(gradients: [Tensor([0.5])])
        // Step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ 0.1.
        #expect(Swift.abs(p.value.scalar - (1 - 0.1 * 0.5 / (0.5 + 1e-8))) < 1e-12)
        adam.step(gradients: [Tensor([-1.0])])
        let m = 0.9 * (0.1 * 0.5) + 0.1 * -1.0
        let v = 0.999 * (0.001 * 0.25) + 0.001 * 1.0
        let mHat = m / (1 - 0.81), vHat = v / (1 - 0.999 * 0.999)
        let expected = (1 - 0.1 * 0.5 / (0.5 + 1e-8)) - 0.1 * mHat / (vHat.squareRoot() + 1e-8)
        #expect(Swift.abs(p.value.scalar - expected) < 1e-12)
    }

    @Test func hiddenDimsParseAndRejectBadStrings() throws {
        #expect(try parseHiddenDims("64-64-64") == [64, 64, 64])
        for bad in ["", "64--64", "64-x", "-3", "0"] {
            #expect(throws: HiddenDimsError.self) { try parseHiddenDims(bad) }
        }
    }
}

@Suite struct ConvolutionLayerTests {
    @Test func groupNormNormalisesEachGroupAndHasCorrectGradients() {
        let norm = GroupNorm<Double>(groups: 2, channels: 4)
        var rng = RandomGenerator(seed: 8)
        let x = Tensor<Double>.randomNormal([2, 4, 3, 3], using: &rng) * 3 + 1
        let y = norm(Variable(x)).value.reshaped([2, 2, 18])
        for b in 0..<2 { for g in 0..<2 {
            let values = (0..<18).map { y[b, g, $0] }
            let mean = values.reduce(0, +) / 18
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 18
            #expect(Swift.abs(mean) < 1e-12)
            // eps = 1e-5 shrinks the variance slightly below 1.
            #expect(Swift.abs(variance - 1) < 1e-4)
        } }
        let f: ([Variable<Double>]) -> Variable<Double> = { v in
            let layer = GroupNorm<Double>(groups: 2, channels: 4)
            return layer(v[0]) * v[0]
        }
        let small = Tensor<Double>.randomNormal([1, 4, 2, 2], using: &rng)
        #expect(checkGradient(f, at: [small]).maxError < 1e-6)
        #expect(checkSecondOrderGradient(f, at: [small]).maxError < 1e-5)
    }

    @Test func concatConv2dSeesTime() {
        var rng = RandomGenerator(seed: 9)
        let layer = ConcatConv2d<Double>(inputChannels: 2, outputChannels: 3, using: &rng)
        let x = Variable(Tensor<Double>.randomNormal([1, 2, 4, 4], using: &rng))
        let a = layer(t: Variable(Tensor(0.0)), x: x).value
        let b = layer(t: Variable(Tensor(1.0)), x: x).value
        #expect(a.shape == [1, 3, 4, 4] && a != b)
    }

    @Test func sgdWithMomentumMatchesHandComputedSteps() {
        let p = Variable(Tensor<Double>([1.0]), requiresGradient: true)
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9)
        sgd.step(gradients: [Tensor([1.0])])  // v = 1, p = 0.9
        sgd.step(gradients: [Tensor([1.0])])  // v = 1.9, p = 0.71
        #expect(Swift.abs(p.value.scalar - 0.71) < 1e-12)
    }

    @Test func clippingScalesToTheMaximumNorm() {
        var grads = [Tensor<Double>([3.0]), Tensor<Double>([4.0])]
        let norm = clipGradientNorm(&grads, maxNorm: 1)
        #expect(norm == 5)
        #expect(Swift.abs(grads[0].scalar - 0.6) < 1e-12 && Swift.abs(grads[1].scalar - 0.8) < 1e-12)
    }
}

@Suite struct SequentialTests {
    @Test func sequentialAppliesStepsInOrderAndNamesParameters() {
        var rng = RandomGenerator(seed: 10)
        let a = Linear<Double>(inputSize: 3, outputSize: 4, using: &rng)
        let b = Linear<Double>(inputSize: 4, outputSize: 2, using: &rng)
        let net = Sequential<Double>([.linear(a), .activation(.tanh), .linear(b)])
        let x = Variable(Tensor<Double>.randomNormal([5, 3], using: &rng))
        #expect(net(x).value == b(tanh(a(x))).value)
        #expect(net.namedParameters.map(\.0) == ["0.weight", "0.bias", "2.weight", "2.bias"])
    }
}
