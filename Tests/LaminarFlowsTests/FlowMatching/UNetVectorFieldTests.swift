import Foundation
import Testing
import _LaminarTestSupport
@testable import LaminarFlows
import LaminarNN

/// The U-Net field: shapes, the zero field at initialisation, one time per row, gradients
/// against central differences, and a flow-matching step that lowers the loss.
@Suite struct UNetVectorFieldTests {
    @Test func shapesZeroStartAndRowTimes() throws {
        var rng = RandomGenerator(seed: 1)
        let field = try UNetVectorField<Double>(imageChannels: 1, height: 8, width: 8, channels: [8, 16, 16], groups: 4, using: &rng)
        let z = Variable(Tensor<Double>.randomNormal([3, 64], using: &rng))
        let f = field(Variable(Tensor([0.3]).reshaped([])), z)
        #expect(f.shape == [3, 64])
        // The output convolution starts at zero (DDPM's initialisation): the field is 0.
        #expect(f.value.scalars.allSatisfy { $0 == 0 })
        // Perturb the output layer, then compare per-row times with one evaluation per row.
        field.outputConv.weight.assign(Tensor.randomNormal(field.outputConv.weight.shape, using: &rng) * 0.1)
        let times = Tensor<Double>(shape: [3, 1], scalars: [0.1, 0.5, 0.9])
        let mixed = field(rowTimes: Variable(times), z).value
        for i in 0..<3 {
            let alone = field(Variable(Tensor([times.scalars[i]]).reshaped([])), Variable(z.value.slice(axis: 0, i..<(i + 1)))).value
            #expect(maxAbsDifference(alone, mixed.slice(axis: 0, i..<(i + 1))) < 1e-12)
        }
        try UNetCNFConfiguration(channels: 1, height: 28, width: 28).validate()
        #expect(throws: FlowError.self) { try UNetCNFConfiguration(channels: 1, height: 7, width: 7, hidden: [8, 8]).validate() }
    }

    /// Gradients in t and z against central differences (Double; GroupNorm, SiLU, pooling and
    /// upsampling included).
    @Test func gradientsMatchFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 2)
        let field = try UNetVectorField<Double>(imageChannels: 1, height: 4, width: 4, channels: [4, 4], groups: 2, using: &rng)
        field.outputConv.weight.assign(Tensor.randomNormal(field.outputConv.weight.shape, using: &rng) * 0.3)
        let t = Tensor<Double>(shape: [2, 1], scalars: [0.2, 0.7])
        let z = Tensor<Double>.randomNormal([2, 16], using: &rng)
        let result = checkGradient({ xs in field(rowTimes: xs[0] * 0.001, xs[1]) }, at: [t, z])
        #expect(result.maxError < 1e-6, "\(result)")
    }

    /// A few flow-matching steps on a fixed batch lower the regression loss.
    @Test func flowMatchingStepsLowerTheLoss() throws {
        var rng = RandomGenerator(seed: 3)
        let model = try UNetCNF<Float>(UNetCNFConfiguration(channels: 1, height: 8, width: 8, hidden: [8, 8], groups: 4), using: &rng)
        let objective = try FlowMatching<Float>(FlowMatchingConfiguration())
        let adam = Adam(parameters: model.parameters, learningRate: 3e-3, weightDecay: 0)
        let x = Variable(Tensor<Float>.randomNormal([16, 64], using: &rng) * 0.3 + 1)
        var losses: [Float] = []
        for _ in 0..<30 {
            var stepRNG = RandomGenerator(seed: 7)  // the same noise and times every step
            let loss = try withGradient { try objective.loss(of: model, batch: x, using: &stepRNG) }
            losses.append(loss.loss.value.scalar)
            adam.step(gradients: gradients(of: loss.loss, wrt: model.parameters).map(\.value))
        }
        #expect(losses.last! < 0.7 * losses.first!, "\(losses.first!) → \(losses.last!)")
    }
}
