import Foundation
import Laminar

// MARK: - flow-matching: one training step, and the couplings' cost per step

/// One flow-matching training step (noise, coupling, path sample, field with one time per row,
/// MSE, gradient, Adam) of FFJORD's toy field (2-64-64-64-2 concatsquash, tanh) on 8gaussians
/// batches of 512 drawn outside the timed region — the same step as
/// `Benchmarks/peers/fm_torchcfm.py` — for the independent and the exact-OT coupling.
func flowMatchingCase(_ s: BenchSettings) throws -> [Measurement] {
    var out: [Measurement] = []
    let batch = s.smoke ? 16 : 512
    let repeats = s.smoke ? 2 : 200
    for coupling in [CouplingKind.independent, .ot] {
        var rng = RandomGenerator(seed: 7)
        let flow = try FFJORD<Float>(FFJORDConfiguration(dimension: 2, trainTime: false), using: &rng)
        let objective = try FlowMatching<Float>(FlowMatchingConfiguration(coupling: coupling))
        let adam = Adam(parameters: flow.parameters, learningRate: 1e-3, weightDecay: 0)
        let batches: [Tensor<Float>] = (0..<(repeats + 10)).map { _ in ToyDataset.eightGaussians.sample(batch, using: &rng) }
        var i = 0
        var losses: [Double] = []
        let samples = try Harness.time(repeats: repeats, warmup: 10) {
            let x = Variable(batches[i % batches.count])
            i += 1
            var stepRNG = RandomGenerator(seed: UInt64(100 + i))
            let loss = try withGradient { try objective.loss(of: flow, batch: x, using: &stepRNG) }
            adam.step(gradients: gradients(of: loss.loss, wrt: flow.parameters).map(\.value))
            losses.append(Double(loss.loss.value.scalar))
        }
        out.append(Harness.summarize(
            "flow-matching step \(coupling.rawValue) (8gaussians, \(batch), mlp 64-64-64)", samples, nfe: 1,
            extra: ["loss_last": losses.suffix(20).reduce(0, +) / Double(Swift.min(20, losses.count))]))
    }
    return out
}

// MARK: - ot-coupling: the couplings' cost per step

/// The exact assignment (given the cost matrix), the squared-distance matrix and both together
/// (2-D and 784-D rows) and the Sinkhorn plan (ε = 0.05) alone, at n = 256, 512, 1024.
func otCouplingCase(_ s: BenchSettings) throws -> [Measurement] {
    var out: [Measurement] = []
    for n in (s.smoke ? [8] : [256, 512, 1_024]) {
        var rng = RandomGenerator(seed: UInt64(n))
        for (d, what) in [(2, "2-D"), (784, "784-D")] {
            let x = Tensor<Float>.randomNormal([n, d], using: &rng), y = Tensor<Float>.randomNormal([n, d], using: &rng)
            let cost = LinearAssignment.squaredDistances(x, y)
            let assignment = Harness.time(repeats: s.smoke ? 1 : 5) { _ = LinearAssignment.solve(cost: cost, n: n) }
            out.append(Harness.summarize("exact OT assignment n \(n) \(what) (cost matrix given)", assignment))
            let distances = Harness.time(repeats: s.smoke ? 1 : 5) { _ = LinearAssignment.squaredDistances(x, y) }
            out.append(Harness.summarize("squared-distance matrix n \(n) \(what)", distances))
            let coupling = Harness.time(repeats: s.smoke ? 1 : 5) {
                _ = LinearAssignment.solve(cost: LinearAssignment.squaredDistances(x, y), n: n)
            }
            out.append(Harness.summarize("exact OT coupling n \(n) \(what) (distances + assignment)", coupling))
        }
        let cost = LinearAssignment.squaredDistances(Tensor<Float>.randomNormal([n, 2], using: &rng), Tensor<Float>.randomNormal([n, 2], using: &rng))
        let sinkhorn = Harness.time(repeats: s.smoke ? 1 : 3) { _ = Sinkhorn.plan(cost: cost, n: n, regularization: 0.05) }
        out.append(Harness.summarize("sinkhorn plan n \(n) ε 0.05", sinkhorn))
    }
    return out
}
