/// A gated recurrent unit cell (Cho et al. 2014) in PyTorch's `nn.GRUCell` layout and
/// initialisation, so weights carry over between the two:
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)
///     u = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − u) ⊙ n + u ⊙ h
///
/// `weight_ih` is [3H, I] and `weight_hh` is [3H, H], gates stacked in the order r, z, n.
public final class GRUCell<Scalar: TensorScalar>: Layer {
    /// Input-to-hidden weights `[W_ir; W_iz; W_in]`, [3H, I].
    public let weightIH: Variable<Scalar>
    /// Hidden-to-hidden weights `[W_hr; W_hz; W_hn]`, [3H, H].
    public let weightHH: Variable<Scalar>
    /// Input-to-hidden biases `[b_ir; b_iz; b_in]`, [3H].
    public let biasIH: Variable<Scalar>
    /// Hidden-to-hidden biases `[b_hr; b_hz; b_hn]`, [3H].
    public let biasHH: Variable<Scalar>

    /// Weights and biases `U(−1/√H, 1/√H)` as PyTorch does.
    public init(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0, "GRUCell: sizes must be positive (\(inputSize), \(hiddenSize))")
        let bound = Scalar(1 / Double(hiddenSize).squareRoot())
        func uniform(_ shape: [Int]) -> Variable<Scalar> {
            Variable(Tensor.randomUniform(shape, low: -bound, high: bound, using: &rng), requiresGradient: true)
        }
        weightIH = uniform([3 * hiddenSize, inputSize])
        weightHH = uniform([3 * hiddenSize, hiddenSize])
        biasIH = uniform([3 * hiddenSize])
        biasHH = uniform([3 * hiddenSize])
    }

    /// Input features `I`.
    public var inputSize: Int { weightIH.shape[1] }
    /// Hidden features `H`.
    public var hiddenSize: Int { weightHH.shape[1] }

    /// `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` (PyTorch's names).
    public var namedParameters: [(String, Variable<Scalar>)] {
        [("weight_ih", weightIH), ("weight_hh", weightHH), ("bias_ih", biasIH), ("bias_hh", biasHH)]
    }

    /// One step: `x` [n, I], `h` [n, H] → [n, H].
    public func callAsFunction(_ x: Variable<Scalar>, _ h: Variable<Scalar>) -> Variable<Scalar> {
        precondition(
            x.rank == 2 && x.shape[1] == inputSize && h.rank == 2 && h.shape == [x.shape[0], hiddenSize],
            "GRUCell: input \(x.shape) and hidden \(h.shape) do not match sizes \(inputSize)/\(hiddenSize)")
        return Self.step(x, h, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
    }

    /// The cell's equations with the weights given (tests differentiate through them).
    static func step(
        _ x: Variable<Scalar>, _ h: Variable<Scalar>, weightIH: Variable<Scalar>, weightHH: Variable<Scalar>,
        biasIH: Variable<Scalar>, biasHH: Variable<Scalar>
    ) -> Variable<Scalar> {
        let H = h.shape[1]
        let gi = linear(x, weight: weightIH, bias: biasIH)
        let gh = linear(h, weight: weightHH, bias: biasHH)
        let r = sigmoid(gi.slice(axis: 1, 0..<H) + gh.slice(axis: 1, 0..<H))
        let u = sigmoid(gi.slice(axis: 1, H..<(2 * H)) + gh.slice(axis: 1, H..<(2 * H)))
        let n = tanh(gi.slice(axis: 1, (2 * H)..<(3 * H)) + r * gh.slice(axis: 1, (2 * H)..<(3 * H)))
        return n + u * (h - n)
    }
}
