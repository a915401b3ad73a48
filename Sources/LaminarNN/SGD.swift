/// Stochastic gradient descent with momentum (PyTorch's `torch.optim.SGD` semantics:
/// `v ← μv + g`, step `v`, or `g + μv` with Nesterov), optional L2 weight decay.
public final class SGD<Scalar: TensorScalar> {
    /// The leaves updated in place by ``step(gradients:)``, in the order gradients are passed.
    public let parameters: [Variable<Scalar>]
    /// Step size `lr`.
    public var learningRate: Double
    /// Momentum `μ` (0: plain gradient descent, no velocity kept).
    public var momentum: Double
    /// Nesterov momentum: step along `g + μv` instead of `v`.
    public var nesterov: Bool
    /// L2 weight decay `λ`: `λ·p` is added to the gradient (0: none).
    public var weightDecay: Double
    private var velocity: [Tensor<Scalar>]?

    /// An optimizer for `parameters`; the velocity starts as the first gradient, as in PyTorch.
    public init(parameters: [Variable<Scalar>], learningRate: Double, momentum: Double = 0, nesterov: Bool = false,
                weightDecay: Double = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// One update `p ← p − lr·d` with `gradients` (one per parameter, same shapes), where `d` is
    /// the gradient, the velocity, or the Nesterov direction.
    public func step(gradients: [Tensor<Scalar>]) {
        precondition(gradients.count == parameters.count, "SGD: \(gradients.count) gradients for \(parameters.count) parameters")
        var v = velocity ?? []
        for (k, p) in parameters.enumerated() {
            var g = gradients[k]
            if weightDecay != 0 { g = g + p.value * Scalar(weightDecay) }
            var direction = g
            if momentum != 0 {
                if velocity == nil { v.append(g) } else { v[k] = v[k] * Scalar(momentum) + g }
                direction = nesterov ? g + v[k] * Scalar(momentum) : v[k]
            }
            p.update { $0 = $0 - direction * Scalar(learningRate) }
        }
        if momentum != 0 { velocity = v }
    }
}

/// Rescales gradients so that their global L2 norm is at most `maxNorm` (like
/// `torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
@discardableResult
public func clipGradientNorm<S: TensorScalar>(_ gradients: inout [Tensor<S>], maxNorm: Double) -> Double {
    var total = 0.0
    for g in gradients { total += g.map(.square).sumOfElements }
    let norm = total.squareRoot()
    if norm > maxNorm && norm > 0 {
        let scale = S(maxNorm / norm)
        for k in gradients.indices { gradients[k] = gradients[k] * scale }
    }
    return norm
}
