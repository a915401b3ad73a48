/// Adam (Kingma & Ba 2015) with PyTorch's semantics: bias-corrected moments, `ε` added after
/// the square root, and `weightDecay` as an L2 term added to the gradient (`torch.optim.Adam`),
/// or decoupled from it when `decoupledWeightDecay` is set (AdamW, Loshchilov & Hutter 2019).
public final class Adam<Scalar: TensorScalar> {
    /// The leaves updated in place by ``step(gradients:)``, in the order gradients are passed.
    public let parameters: [Variable<Scalar>]
    /// Step size `lr` (may be changed between steps by a schedule).
    public var learningRate: Double
    /// Decay rate `β₁` of the first-moment (mean) estimate.
    public var beta1: Double
    /// Decay rate `β₂` of the second-moment (uncentred variance) estimate.
    public var beta2: Double
    /// `ε` added to `√v̂` in the denominator.
    public var epsilon: Double
    /// Weight-decay coefficient `λ` (0: none).
    public var weightDecay: Double
    /// `false`: `λ·p` is added to the gradient (L2, `torch.optim.Adam`); `true`: the parameters
    /// are multiplied by `1 − lr·λ` before the update (AdamW).
    public var decoupledWeightDecay: Bool
    /// Steps taken.
    public private(set) var stepCount = 0
    private var m: [Tensor<Scalar>]
    private var v: [Tensor<Scalar>]

    /// An optimizer for `parameters` with PyTorch's defaults (`lr` 1e-3, β = (0.9, 0.999),
    /// `ε` 1e-8, no weight decay); moments start at zero.
    public init(
        parameters: [Variable<Scalar>], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Double = 1e-8, weightDecay: Double = 0, decoupledWeightDecay: Bool = false
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        m = parameters.map { Tensor(zeros: $0.shape) }
        v = parameters.map { Tensor(zeros: $0.shape) }
    }

    /// One update with `gradients` (one per parameter, same shapes).
    public func step(gradients: [Tensor<Scalar>]) {
        precondition(gradients.count == parameters.count, "Adam: \(gradients.count) gradients for \(parameters.count) parameters")
        stepCount += 1
        let b1 = beta1, b2 = beta2
        let correction1 = 1 - pow(b1, Double(stepCount))
        let correction2 = 1 - pow(b2, Double(stepCount))
        let stepSize = learningRate / correction1
        for (k, p) in parameters.enumerated() {
            precondition(gradients[k].shape == p.shape, "Adam: gradient \(gradients[k].shape) for parameter \(p.shape)")
            var g = gradients[k]
            if weightDecay != 0 && !decoupledWeightDecay { g = g + p.value * Scalar(weightDecay) }
            m[k] = m[k] * Scalar(b1) + g * Scalar(1 - b1)
            v[k] = v[k] * Scalar(b2) + g.map(.square) * Scalar(1 - b2)
            // p ← p − lr/(1−β₁ᵗ) · m / (√(v/(1−β₂ᵗ)) + ε)
            let denominator = (v[k] * Scalar(1 / correction2)).map(.sqrt) + Scalar(epsilon)
            let update = m[k] / denominator * Scalar(stepSize)
            let decay = decoupledWeightDecay && weightDecay != 0 ? Scalar(1 - learningRate * weightDecay) : 1
            p.update { value in
                if decay != 1 { value = value * decay }
                value = value - update
            }
        }
    }

    /// Optimizer state as named tensors (`<prefix>step`, `<prefix><i>.exp_avg`,
    /// `<prefix><i>.exp_avg_sq`, as in PyTorch's state dict), for checkpoints.
    public func state(prefix: String) -> [(String, Tensor<Scalar>)] {
        var out: [(String, Tensor<Scalar>)] = [("\(prefix)step", Tensor([Scalar(stepCount)]))]
        for k in parameters.indices {
            out.append(("\(prefix)\(k).exp_avg", m[k]))
            out.append(("\(prefix)\(k).exp_avg_sq", v[k]))
        }
        return out
    }

    /// Restores the state written by ``state(prefix:)`` (names without the prefix).
    public func load(state: [String: Tensor<Scalar>]) throws {
        guard let step = state["step"], step.count == 1 else { throw CheckpointError.missingTensor("optimizer step") }
        var newM: [Tensor<Scalar>] = []
        var newV: [Tensor<Scalar>] = []
        for (k, p) in parameters.enumerated() {
            for (name, target) in [("exp_avg", 0), ("exp_avg_sq", 1)] {
                guard let t = state["\(k).\(name)"] else { throw CheckpointError.missingTensor("optimizer \(k).\(name)") }
                guard t.shape == p.shape else {
                    throw CheckpointError.shapeMismatch(name: "optimizer \(k).\(name)", expected: p.shape, found: t.shape)
                }
                if target == 0 { newM.append(t) } else { newV.append(t) }
            }
        }
        m = newM
        v = newV
        stepCount = Int(step.scalars[0])
    }
}

import Foundation
