/// `y = x Wᵀ + b` with `W` of shape [out, in] (PyTorch's layout).
///
/// Initialisation as PyTorch's `nn.Linear.reset_parameters`: `W, b ~ U(−1/√in, 1/√in)`
/// (Kaiming-uniform with a = √5), so results are comparable with PyTorch models.
public final class Linear<Scalar: TensorScalar>: Layer {
    /// `W`, [out, in].
    public let weight: Variable<Scalar>
    /// `b`, [out] (nil when built with `bias: false`).
    public let bias: Variable<Scalar>?

    /// A layer from `inputSize` to `outputSize` features, initialised from `rng` as PyTorch does.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, using rng: inout RandomGenerator) {
        precondition(inputSize > 0 && outputSize > 0, "Linear: sizes must be positive (\(inputSize) → \(outputSize))")
        let bound = Scalar(1 / Double(inputSize).squareRoot())
        weight = Variable(
            Tensor.randomUniform([outputSize, inputSize], low: -bound, high: bound, using: &rng), requiresGradient: true)
        self.bias = bias
            ? Variable(Tensor.randomUniform([outputSize], low: -bound, high: bound, using: &rng), requiresGradient: true)
            : nil
    }

    /// Input features (`in`).
    public var inputSize: Int { weight.shape[1] }
    /// Output features (`out`).
    public var outputSize: Int { weight.shape[0] }

    /// `weight` and, with a bias, `bias` (PyTorch's names).
    public var namedParameters: [(String, Variable<Scalar>)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// `x` ([n, in]) → [n, out].
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        precondition(
            x.rank == 2 && x.shape[1] == inputSize,
            "Linear: input of shape \(x.shape) does not have \(inputSize) features")
        return linear(x, weight: weight, bias: bias)
    }
}
