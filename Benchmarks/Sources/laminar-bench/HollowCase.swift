import Foundation
import Laminar

// MARK: - hollow: cost of one function evaluation of the CNF dynamics against d

/// The augmented right-hand side `[f, −div]` and the adjoint's pullback through it, per call, for
/// the MLP field with the exact trace (d vector–Jacobian products) and with one Hutchinson probe,
/// and for the hollow field (exact divergence in one extra pass) at two sizes: 16 units per
/// dimension in each of two hidden layers (width 16·d), and about the MLP's width 64 in total
/// (max(1, 64/d) units per dimension). Batch 256, Float, graph-free passes.
func hollowCase(_ s: BenchSettings) throws -> [Measurement] {
    let n = 256
    var out: [Measurement] = []
    for d in (s.smoke ? [2, 4] : [2, 4, 8, 16, 32, 64]) {
        var rng = RandomGenerator(seed: UInt64(d))
        let z = Tensor<Float>.randomNormal([n, d], using: &rng)
        let y = [z, Tensor<Float>(zeros: [n, 1])]
        let seeds = y.map { Tensor<Float>.randomNormal($0.shape, using: &rng) }
        let mlp = try MLPVectorField<Float>(
            dimension: d, hidden: [64, 64, 64], layerType: .concatsquash, activation: "tanh", using: &rng)
        let wide = try HollowVectorField<Float>(
            dimension: d, hidden: [16, 16], layerType: .concatsquash, activation: "tanh", using: &rng)
        let narrow = max(1, 64 / d)
        let slim = try HollowVectorField<Float>(
            dimension: d, hidden: [narrow, narrow], layerType: .concatsquash, activation: "tanh", using: &rng)
        var fields: [(String, any CNFVectorField<Float>, TraceEstimator)] = [
            ("mlp 64-64-64 exact (d VJPs)", mlp, .exact),
            ("mlp 64-64-64 hutchinson (1 probe)", mlp, .hutchinson(.rademacher)),
            ("hollow 16-16 per dim exact (one pass)", wide, .exact),
        ]
        if narrow != 16 { fields.append(("hollow 64/d per dim exact (one pass)", slim, .exact)) }
        for (name, field, estimator) in fields {
            let noise: Tensor<Float> = HutchinsonNoise.rademacher.draw([n, d], using: &rng)
            let dynamics = CNFDynamics(net: field, trace: estimator == .exact ? .exact : .hutchinson(noise: noise))
            let inner = s.smoke ? 1 : max(1, 2_000 / (d * 4))
            let evaluate = Harness.time(repeats: s.repeats) {
                for _ in 0..<inner { _ = dynamics.evaluate(0.3, y) }
            }.map { $0 / Double(inner) * 1e6 }
            let pullback = Harness.time(repeats: s.repeats) {
                for _ in 0..<inner { _ = dynamics.pullback(0.3, y, seeds: seeds, parameters: dynamics.parameters) }
            }.map { $0 / Double(inner) * 1e6 }
            let parameters = Double(field.parameters.reduce(0) { $0 + $1.count })
            out.append(Harness.summarize("evaluate d=\(d) \(name)", unit: "us", evaluate, extra: ["d": Double(d), "parameters": parameters]))
            out.append(Harness.summarize("pullback d=\(d) \(name)", unit: "us", pullback, extra: ["d": Double(d), "parameters": parameters]))
        }
    }
    return out
}
