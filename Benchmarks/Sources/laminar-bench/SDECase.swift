import Foundation
import Laminar

// MARK: - sde: time per step of the SDE schemes, forward and with gradients (peer: torchsde)

/// The neural SDE both sides solve (Benchmarks/peers/sde_peers.py builds the same one in
/// torchsde): a batch of 128 states of dimension 8 in Float32, drift 8 → 32 → 8 (tanh),
/// diagonal diffusion 8 → 32 → 8 (tanh, then sigmoid), 100 steps of 0.01 over [0, 1] on a
/// Brownian tree (torchsde: its default `BrownianInterval`).
struct BenchSDE: SDEDynamics {
    let w1, b1, w2, b2, v1, c1, v2, c2: Variable<Float>
    let calculus: SDECalculus
    var noiseType: NoiseType { .diagonal }
    var parameters: [Variable<Float>] { [w1, b1, w2, b2, v1, c1, v2, c2] }

    init(calculus: SDECalculus, seed: UInt64 = 4) {
        var rng = RandomGenerator(seed: seed)
        func weight(_ o: Int, _ i: Int) -> Variable<Float> {
            Variable(Tensor.randomNormal([o, i], using: &rng) * Float(1 / Double(i).squareRoot()), requiresGradient: true)
        }
        func bias(_ n: Int) -> Variable<Float> { Variable(Tensor(zeros: [n]), requiresGradient: true) }
        (w1, b1, w2, b2) = (weight(32, 8), bias(32), weight(8, 32), bias(8))
        (v1, c1, v2, c2) = (weight(32, 8), bias(32), weight(8, 32), bias(8))
        self.calculus = calculus
    }

    func drift(_ t: Variable<Float>, _ x: Variable<Float>) -> Variable<Float> {
        linear(tanh(linear(x, weight: w1, bias: b1)), weight: w2, bias: b2)
    }

    func diffusion(_ t: Variable<Float>, _ x: Variable<Float>) -> Variable<Float> {
        sigmoid(linear(tanh(linear(x, weight: v1, bias: c1)), weight: v2, bias: c2))
    }
}

func sdeCase(_ s: BenchSettings) throws -> [Measurement] {
    let (batch, dim, steps, h) = (128, 8, 100, 0.01)
    var rng = RandomGenerator(seed: 9)
    let x0 = Tensor<Float>.randomNormal([batch, dim], using: &rng) * 0.5
    var out: [Measurement] = []
    let repeats = s.smoke ? 2 : 10
    // Forward only (no graph), each scheme on a fresh tree per repeat (as torchsde builds a
    // Brownian interval per call).
    for scheme in [SDEScheme.eulerMaruyama, .milstein, .midpoint, .heun] {
        let sde = BenchSDE(calculus: scheme.calculus)
        var seed: UInt64 = 0
        let samples = try Harness.time(repeats: repeats) {
            seed += 1
            let tree = VirtualBrownianTree(t0: 0, t1: 1, shape: [batch, dim], seed: seed)
            _ = try withoutGradient {
                try sdeint(sde, Variable(x0), times: [0, 1], brownian: tree, options: SDEOptions(scheme: scheme, stepSize: h))
            }
        }
        let median = samples.sorted()[samples.count / 2]
        out.append(Harness.summarize("forward \(scheme.name)", samples, extra: ["us_per_step": median / Double(steps) * 1e6]))
    }
    // The same with the path stored beforehand on the step grid (Brownian cost excluded).
    do {
        let sde = BenchSDE(calculus: .stratonovich)
        let grid = (0...steps).map { Double($0) * h }
        let stored = StoredBrownianPath(grid: grid, shape: [batch, dim], seed: 1)
        let samples = try Harness.time(repeats: repeats) {
            _ = try withoutGradient {
                try sdeint(sde, Variable(x0), times: [0, 1], brownian: stored, options: SDEOptions(scheme: .midpoint, stepSize: h))
            }
        }
        let median = samples.sorted()[samples.count / 2]
        out.append(Harness.summarize("forward midpoint stored path", samples, extra: ["us_per_step": median / Double(steps) * 1e6]))
    }
    // Forward + backward: loss = mean of X(1)², gradients for all parameters.
    for gradient in [SDEGradientMethod.backprop, .adjoint] {
        let sde = BenchSDE(calculus: .stratonovich)
        var seed: UInt64 = 0
        let samples = try Harness.time(repeats: repeats) {
            seed += 1
            let tree = VirtualBrownianTree(t0: 0, t1: 1, shape: [batch, dim], seed: seed)
            try withGradient {
                let r = try sdeint(
                    sde, Variable(x0), times: [0, 1], brownian: tree, options: SDEOptions(scheme: .midpoint, stepSize: h),
                    gradient: gradient)
                _ = gradients(of: square(r.final).mean(), wrt: sde.parameters)
            }
        }
        let median = samples.sorted()[samples.count / 2]
        out.append(Harness.summarize(
            "gradient midpoint \(gradient.rawValue)", samples, extra: ["us_per_step": median / Double(steps) * 1e6]))
    }
    // Memory kept for the backward pass: bytes of the recorded graph after the forward solve,
    // at 100 and 1 000 steps (backprop grows with the steps, the adjoint keeps the outputs).
    for gradient in [SDEGradientMethod.backprop, .adjoint] {
        for n in (s.smoke ? [10] : [100, 1000]) {
            let sde = BenchSDE(calculus: .stratonovich)
            let tree = VirtualBrownianTree(t0: 0, t1: 1, shape: [batch, dim], seed: 1)
            let bytes = try withGradient {
                let r = try sdeint(
                    sde, Variable(x0), times: [0, 1], brownian: tree,
                    options: SDEOptions(scheme: .midpoint, stepSize: 1 / Double(n)), gradient: gradient)
                return recordedGraphBytes([r.final])
            }
            out.append(Harness.summarize("graph bytes \(gradient.rawValue) \(n) steps", unit: "bytes", [Double(bytes)]))
        }
    }
    return out
}
