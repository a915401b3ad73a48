/// FFJORD's `ConcatSquashLinear`: `(W x + b) ⊙ σ(W_g t + b_g) + W_b t` — time gates and shifts
/// every output feature (Grathwohl et al. 2019).
public final class ConcatSquashLinear<Scalar: TensorScalar>: AffineTimeConditionedLayer {
    /// The map `W x + b` on the input, [out, in].
    public let layer: Linear<Scalar>
    /// `W_g t + b_g`: the gate's pre-activation, one per output feature (1 → out).
    public let hyperGate: Linear<Scalar>
    /// `W_b t`: the time-dependent shift, one per output feature (1 → out, no bias).
    public let hyperBias: Linear<Scalar>

    /// A layer from `inputSize` to `outputSize` features, each of its three maps initialised as
    /// ``Linear``.
    public init(inputSize: Int, outputSize: Int, using rng: inout RandomGenerator) {
        layer = Linear(inputSize: inputSize, outputSize: outputSize, using: &rng)
        hyperBias = Linear(inputSize: 1, outputSize: outputSize, bias: false, using: &rng)
        hyperGate = Linear(inputSize: 1, outputSize: outputSize, using: &rng)
    }

    /// `_layer.*`, `_hyper_bias.weight`, `_hyper_gate.*` (FFJORD's names).
    public var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("_layer", layer.namedParameters) + prefixed("_hyper_bias", hyperBias.namedParameters)
            + prefixed("_hyper_gate", hyperGate.namedParameters)
    }

    /// `(W x + b) ⊙ σ + c = x (diag(σ) W)ᵀ + (b ⊙ σ + c)`: the gate folds into the weight's rows
    /// and the bias into the shift, so the layer is one GEMM + bias on the batch; the gating
    /// happens on the small [out, in] matrix, in the forward pass and in every derivative.
    public func affine(t: Variable<Scalar>) -> (weight: Variable<Scalar>, bias: Variable<Scalar>?) {
        let tt = t.reshaped([1, 1])
        let gate = sigmoid(hyperGate(tt))
        let shift = layer.bias.map { $0 * gate + hyperBias(tt) } ?? hyperBias(tt)
        let out = layer.weight.shape[0]
        return (layer.weight * gate.reshaped([out, 1]), shift.reshaped([out]))
    }

    private func gate(_ t: Scalar) -> Tensor<Scalar> {
        let out = layer.outputSize
        var pre = hyperGate.weight.value.reshaped([out]) * t
        if let b = hyperGate.bias { pre += b.value }
        return sigmoid(pre)
    }

    /// `W(t) = diag(σ) W` and `b(t) = b ⊙ σ + W_b t` with `σ = σ(W_g t + b_g)`, on plain tensors.
    public func affineValue(t: Scalar) -> (weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        let out = layer.outputSize
        let s = gate(t)
        let shift = hyperBias.weight.value.reshaped([out]) * t
        return (layer.weight.value * s.reshaped([out, 1]), layer.bias.map { $0.value * s + shift } ?? shift)
    }

    /// With `s = σ(G t + g)`: `W̄ = diag(s) Ŵ̄`, `b̄ = β̄ ⊙ s`, `H̄ = β̄ t`, and through
    /// `s̄ = rowsum(Ŵ̄ ⊙ W) + β̄ ⊙ b` the gate's `Ḡ = s̄ ⊙ s(1 − s) t`, `ḡ = s̄ ⊙ s(1 − s)`.
    public func affinePullback(t: Scalar, weight: Tensor<Scalar>, bias: Tensor<Scalar>?) -> [Tensor<Scalar>] {
        let out = layer.outputSize
        let s = gate(t)
        let biasBar = bias ?? Tensor(zeros: [out])
        var sBar = (weight * layer.weight.value).sum(axes: [1])
        if let b = layer.bias { sBar += biasBar * b.value }
        let preBar = sBar * s * (1 - s)
        var grads = [weight * s.reshaped([out, 1])]
        if layer.bias != nil { grads.append(biasBar * s) }
        grads.append((biasBar * t).reshaped([out, 1]))
        grads.append((preBar * t).reshaped([out, 1]))
        if hyperGate.bias != nil { grads.append(preBar) }
        return grads
    }
}

/// FFJORD's `ConcatLinear`: `W [x, t] + b` (time appended as an input feature).
public final class ConcatLinear<Scalar: TensorScalar>: AffineTimeConditionedLayer {
    /// `[W_x | w_t]`, [out, in + 1]: the input weights and the time column.
    public let layer: Linear<Scalar>

    /// A layer from `inputSize` to `outputSize` features (a ``Linear`` with one extra input for `t`).
    public init(inputSize: Int, outputSize: Int, using rng: inout RandomGenerator) {
        layer = Linear(inputSize: inputSize + 1, outputSize: outputSize, using: &rng)
    }

    /// `_layer.weight`, `_layer.bias` (FFJORD's names).
    public var namedParameters: [(String, Variable<Scalar>)] { prefixed("_layer", layer.namedParameters) }

    /// `W [x, t] + b = x W_xᵀ + (b + t·w_t)` with `W = [W_x | w_t]`.
    public func affine(t: Variable<Scalar>) -> (weight: Variable<Scalar>, bias: Variable<Scalar>?) {
        let inputs = layer.weight.shape[1] - 1, out = layer.weight.shape[0]
        let timeColumn = layer.weight.slice(axis: 1, inputs..<(inputs + 1)).reshaped([out]) * t
        return (layer.weight.slice(axis: 1, 0..<inputs), layer.bias.map { $0 + timeColumn } ?? timeColumn)
    }

    /// `W(t) = W_x` and `b(t) = b + t·w_t`, on plain tensors.
    public func affineValue(t: Scalar) -> (weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        let inputs = layer.weight.shape[1] - 1, out = layer.weight.shape[0]
        let timeColumn = layer.weight.value.slice(axis: 1, inputs..<(inputs + 1)).reshaped([out]) * t
        return (layer.weight.value.slice(axis: 1, 0..<inputs), layer.bias.map { $0.value + timeColumn } ?? timeColumn)
    }

    /// `W̄ = [Ŵ̄ | β̄ t]`, `b̄ = β̄`.
    public func affinePullback(t: Scalar, weight: Tensor<Scalar>, bias: Tensor<Scalar>?) -> [Tensor<Scalar>] {
        let out = layer.weight.shape[0]
        let biasBar = bias ?? Tensor(zeros: [out])
        let w = Tensor.concatenate([weight, (biasBar * t).reshaped([out, 1])], axis: 1)
        return layer.bias == nil ? [w] : [w, biasBar]
    }
}

/// FFJORD's `IgnoreLinear`: `W x + b`; time is ignored (autonomous dynamics).
public final class IgnoreLinear<Scalar: TensorScalar>: AffineTimeConditionedLayer {
    /// `W x + b`, [out, in].
    public let layer: Linear<Scalar>

    /// A layer from `inputSize` to `outputSize` features.
    public init(inputSize: Int, outputSize: Int, using rng: inout RandomGenerator) {
        layer = Linear(inputSize: inputSize, outputSize: outputSize, using: &rng)
    }

    /// `_layer.weight`, `_layer.bias` (FFJORD's names).
    public var namedParameters: [(String, Variable<Scalar>)] { prefixed("_layer", layer.namedParameters) }

    /// `W` and `b` themselves: constant in `t`.
    public func affine(t: Variable<Scalar>) -> (weight: Variable<Scalar>, bias: Variable<Scalar>?) {
        (layer.weight, layer.bias)
    }

    /// `W` and `b` as tensors.
    public func affineValue(t: Scalar) -> (weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        (layer.weight.value, layer.bias?.value)
    }

    /// The gradients pass through unchanged (`W̄`, and `b̄` when the layer has a bias).
    public func affinePullback(t: Scalar, weight: Tensor<Scalar>, bias: Tensor<Scalar>?) -> [Tensor<Scalar>] {
        layer.bias == nil ? [weight] : [weight, bias ?? Tensor(zeros: [layer.outputSize])]
    }
}

/// A time-conditioned layer that is affine in its input at every time: `x W(t)ᵀ + b(t)`.
/// Its output is `linear(x, W(t), b(t))`; code that differentiates by hand (the fused CNF
/// dynamics) asks for `W(t)` and `b(t)` and differentiates only them through the graph.
public protocol AffineTimeConditionedLayer<Scalar>: TimeConditionedLayer {
    /// `W(t)` ([out, in]) and `b(t)` ([out]; nil when zero) as differentiable functions of the parameters and `t`.
    func affine(t: Variable<Scalar>) -> (weight: Variable<Scalar>, bias: Variable<Scalar>?)
    /// The same map evaluated on plain tensors.
    func affineValue(t: Scalar) -> (weight: Tensor<Scalar>, bias: Tensor<Scalar>?)
    /// Gradients of the parameters (in ``Layer/namedParameters`` order) from the gradients of
    /// `W(t)` and `b(t)`: the map's pullback written out, checked against ``affine(t:)``'s graph
    /// in the tests.
    func affinePullback(t: Scalar, weight: Tensor<Scalar>, bias: Tensor<Scalar>?) -> [Tensor<Scalar>]
}

extension AffineTimeConditionedLayer {
    /// `x` [n, in], `t` rank 0 → `x W(t)ᵀ + b(t)`, [n, out]: one matrix product on the batch.
    public func callAsFunction(t: Variable<Scalar>, x: Variable<Scalar>) -> Variable<Scalar> {
        let a = affine(t: t)
        return linear(x, weight: a.weight, bias: a.bias)
    }
}
