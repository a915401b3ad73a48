/// FFJORD's `ConcatSquashLinear`: `(W x + b) ⊙ σ(W_g t + b_g) + W_b t` — time gates and shifts
/// every output feature (Grathwohl et al. 2019).
public final class ConcatSquashLinear<Scalar: TensorScalar>: TimeConditionedLayer {
    public let layer: Linear<Scalar>
    public let hyperGate: Linear<Scalar>
    public let hyperBias: Linear<Scalar>

    public init(inputSize: Int, outputSize: Int, using rng: inout RandomGenerator) {
        layer = Linear(inputSize: inputSize, outputSize: outputSize, using: &rng)
        hyperBias = Linear(inputSize: 1, outputSize: outputSize, bias: false, using: &rng)
        hyperGate = Linear(inputSize: 1, outputSize: outputSize, using: &rng)
    }

    public var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("_layer", layer.namedParameters) + prefixed("_hyper_bias", hyperBias.namedParameters)
            + prefixed("_hyper_gate", hyperGate.namedParameters)
    }

    public func callAsFunction(t: Variable<Scalar>, x: Variable<Scalar>) -> Variable<Scalar> {
        let tt = t.reshaped([1, 1])
        let gate = sigmoid(hyperGate(tt))
        // (x Wᵀ + b) ⊙ σ + c = (x Wᵀ) ⊙ σ + (b ⊙ σ + c): the bias folds into the [1, out] shift,
        // saving a pass over the [n, out] batch (in the forward and in every derivative).
        // The gate folds into the weight's rows as well: (x Wᵀ) ⊙ σ = x (diag(σ) W)ᵀ, so the
        // layer is one fused GEMM + bias on the batch; the gating happens on the small [out, in]
        // matrix, in the forward pass and in every derivative.
        let shift = layer.bias.map { $0 * gate + hyperBias(tt) } ?? hyperBias(tt)
        let out = layer.weight.shape[0]
        return linear(x, weight: layer.weight * gate.reshaped([out, 1]), bias: shift.reshaped([out]))
    }
}

/// FFJORD's `ConcatLinear`: `W [x, t] + b` (time appended as an input feature).
public final class ConcatLinear<Scalar: TensorScalar>: TimeConditionedLayer {
    public let layer: Linear<Scalar>

    public init(inputSize: Int, outputSize: Int, using rng: inout RandomGenerator) {
        layer = Linear(inputSize: inputSize + 1, outputSize: outputSize, using: &rng)
    }

    public var namedParameters: [(String, Variable<Scalar>)] { prefixed("_layer", layer.namedParameters) }

    public func callAsFunction(t: Variable<Scalar>, x: Variable<Scalar>) -> Variable<Scalar> {
        let column = t.reshaped([1, 1]).broadcast(to: [x.shape[0], 1])
        return layer(Variable.concatenate([x, column], axis: 1))
    }
}

/// FFJORD's `IgnoreLinear`: `W x + b`; time is ignored (autonomous dynamics).
public final class IgnoreLinear<Scalar: TensorScalar>: TimeConditionedLayer {
    public let layer: Linear<Scalar>

    public init(inputSize: Int, outputSize: Int, using rng: inout RandomGenerator) {
        layer = Linear(inputSize: inputSize, outputSize: outputSize, using: &rng)
    }

    public var namedParameters: [(String, Variable<Scalar>)] { prefixed("_layer", layer.namedParameters) }

    public func callAsFunction(t: Variable<Scalar>, x: Variable<Scalar>) -> Variable<Scalar> {
        layer(x)
    }
}
