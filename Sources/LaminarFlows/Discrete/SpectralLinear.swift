import Foundation
import LaminarAutodiff
import LaminarNN

/// A linear layer `y = x Ŵᵀ + b` whose weight is spectrally normalised to a Lipschitz bound:
/// `Ŵ = W / max(1, σ / c)` with `σ ≈ ‖W‖₂` from power iteration (Miyato et al. 2018, as used by
/// Behrmann et al. 2019 for invertible ResNets and Chen et al. 2019 for residual flows).
///
/// The power-iteration vector `u` ([out]) persists between calls, as in the papers: it is stored
/// under `weight_u` among the named parameters (so checkpoints and resumed runs reproduce the
/// normalisation exactly) but is not trainable (no gradient; it is reassigned, never stepped).
/// With `u` fixed, `σ = ‖Wᵀu‖ = uᵀ W v` for `v = Wᵀu / ‖Wᵀu‖`, and gradients pass through σ
/// with `u`, `v` held constant.
public final class SpectralLinear<Scalar: TensorScalar> {
    /// The unnormalised weight W ([out, in]); the layer uses `W / max(1, σ/c)`.
    public let weight: Variable<Scalar>
    /// The bias b ([out]).
    public let bias: Variable<Scalar>
    /// The left singular-vector estimate ([out], unit norm).
    public let u: Variable<Scalar>
    /// The Lipschitz bound c of the normalised map (< 1 in a residual block).
    public let coefficient: Double

    /// PyTorch's default initialisation of `W` and `b`, then `u` converged by 50 iterations.
    public init(inputSize: Int, outputSize: Int, coefficient: Double, using rng: inout RandomGenerator) {
        let layer = Linear<Scalar>(inputSize: inputSize, outputSize: outputSize, using: &rng)
        weight = layer.weight
        bias = layer.bias!
        self.coefficient = coefficient
        let start = Tensor<Scalar>.randomNormal([outputSize], using: &rng)
        u = Variable(start / Scalar(Swift.max(Self.norm(start), 1e-12)))
        powerIterate(50)
    }

    /// `weight`, `bias` and the power-iteration vector `weight_u`.
    public var namedParameters: [(String, Variable<Scalar>)] {
        [("weight", weight), ("bias", bias), ("weight_u", u)]
    }

    /// The trainable parameters (not `u`).
    public var trainableParameters: [Variable<Scalar>] { [weight, bias] }

    static func norm(_ x: Tensor<Scalar>) -> Double {
        x.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    /// `iterations` steps `v ← Wᵀu/‖Wᵀu‖, u ← Wv/‖Wv‖` on the current weight.
    public func powerIterate(_ iterations: Int) {
        guard iterations > 0 else { return }
        let w = weight.value
        var current = u.value
        for _ in 0..<iterations {
            let wu = matmul(current.reshaped([1, -1]), w).reshaped([-1])  // Wᵀu
            let v = wu / Scalar(Swift.max(Self.norm(wu), 1e-12))
            let wv = matmul(w, v.reshaped([-1, 1])).reshaped([-1])
            current = wv / Scalar(Swift.max(Self.norm(wv), 1e-12))
        }
        u.assign(current)
    }

    /// The estimate `σ = ‖Wᵀu‖` of the largest singular value.
    public var spectralNormEstimate: Double {
        Self.norm(matmul(u.value.reshaped([1, -1]), weight.value))
    }

    /// `Ŵ` ([out, in]) on the graph: `W`, or `W · c/σ` when `σ > c`.
    public func normalizedWeight() -> Variable<Scalar> {
        let wu = matmul(u.value.reshaped([1, -1]), weight.value)  // [1, in]
        let sigmaValue = Self.norm(wu)
        guard sigmaValue > coefficient else { return weight }
        let v = Variable(wu / Scalar(sigmaValue))
        // σ = uᵀ W v with u, v constant.
        let sigma = (matmul(Variable(u.value.reshaped([1, -1])), weight) * v).sum()
        return weight * (Variable(Tensor<Scalar>(Scalar(coefficient))) / sigma)
    }

    /// `x Ŵᵀ + b` for `x` ([n, in]).
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        linear(x, weight: normalizedWeight(), bias: bias)
    }
}

/// LipSwish (Chen et al. 2019): `x · σ(βx) / 1.1` with `β = softplus(ρ)` learned, 1-Lipschitz for
/// every β > 0 (the swish's slope never exceeds 1.0998).
public final class LipSwish<Scalar: TensorScalar> {
    /// ρ, with β = softplus(ρ); starts at β = 1.
    public let rho: Variable<Scalar>

    /// ρ = log(e − 1), so that β = softplus(ρ) = 1.
    public init() {
        rho = Variable(Tensor<Scalar>(shape: [1], scalars: [Scalar(Foundation.log(Foundation.exp(1.0) - 1))]), requiresGradient: true)
    }

    /// `x · σ(βx) / 1.1`, elementwise.
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        let beta = softplus(rho)
        return x * sigmoid(x * beta) * Scalar(1 / 1.1)
    }
}
