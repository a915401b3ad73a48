import Foundation
import LaminarAutodiff

/// Errors of residual-flow inversion.
public enum ResidualFlowError: Error, CustomStringConvertible, Equatable {
    /// The fixed-point iteration of block `block` did not reach the tolerance.
    case inverseDidNotConverge(block: Int, iterations: Int, change: Double)

    /// What failed and which flag usually helps.
    public var description: String {
        switch self {
        case .inverseDidNotConverge(let block, let iterations, let change):
            return "residual block \(block) did not invert: the fixed-point iteration still moved by \(change) after \(iterations) iterations; raise --inverse-iterations, loosen --inverse-tol or lower --lipschitz"
        }
    }
}

/// One invertible residual block `y = x + g(x)` (Behrmann et al. 2019, "Invertible Residual
/// Networks"): `g` is an MLP `d → h₁ → … → d` of ``SpectralLinear`` layers with ``LipSwish``
/// between them, so `Lip(g) ≤ c^L < 1` and the block is a bi-Lipschitz bijection.
///
/// The inverse solves `x = y − g(x)` by fixed-point iteration (a contraction with rate Lip(g)).
/// On the graph the inverse is one custom operation whose backward pass is the implicit-function
/// gradient: with `wᵀ(I + ∂g/∂x) = x̄ᵀ` solved by the same kind of iteration, `ȳ = w` and
/// `θ̄ = −wᵀ ∂g/∂θ` — no differentiation through the iterations.
public final class ResidualBlock<Scalar: TensorScalar> {
    /// The spectrally normalised layers of `g`, `d → h₁ → … → d`.
    public let layers: [SpectralLinear<Scalar>]
    /// The LipSwish nonlinearity after each hidden layer.
    public let activations: [LipSwish<Scalar>]

    /// A block on d-dimensional data with hidden widths `hidden`, every layer normalised to Lipschitz bound `lipschitz` (< 1).
    public init(dimension: Int, hidden: [Int], lipschitz: Double, using rng: inout RandomGenerator) {
        let widths = [dimension] + hidden + [dimension]
        layers = (0..<(widths.count - 1)).map {
            SpectralLinear(inputSize: widths[$0], outputSize: widths[$0 + 1], coefficient: lipschitz, using: &rng)
        }
        activations = hidden.map { _ in LipSwish() }
    }

    /// `layers.<k>.weight`, `.bias`, `.weight_u` and `activations.<k>.rho`.
    public var namedParameters: [(String, Variable<Scalar>)] {
        layers.enumerated().flatMap { i, l in l.namedParameters.map { ("layers.\(i).\($0.0)", $0.1) } }
            + activations.enumerated().map { ("activations.\($0.offset).rho", $0.element.rho) }
    }

    /// Parameters that receive gradients (weights, biases, LipSwish ρ), in `namedParameters` order.
    public var trainableParameters: [Variable<Scalar>] {
        layers.flatMap(\.trainableParameters) + activations.map(\.rho)
    }

    /// Advances every layer's power iteration.
    public func powerIterate(_ iterations: Int) {
        for layer in layers { layer.powerIterate(iterations) }
    }

    /// `g(x)` for `x` ([n, d]).
    public func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < activations.count { h = activations[i](h) }
        }
        return h
    }

    /// `g` on a plain tensor, no graph.
    func residual(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        withoutGradient { self(Variable(x)).value }
    }

    /// Solves `x + g(x) = y` by `x ← y − g(x)` from `x = y`, until the largest change is at most
    /// `tolerance · max(1, max|x|)`; throws after `maxIterations`.
    func fixedPoint(_ y: Tensor<Scalar>, tolerance: Double, maxIterations: Int, index: Int) throws -> Tensor<Scalar> {
        var x = y
        var change = Double.infinity
        for _ in 0..<maxIterations {
            let next = y - residual(x)
            change = maxAbs(next - x)
            x = next
            guard change.isFinite else { break }
            if change <= tolerance * Swift.max(1, maxAbs(x)) { return x }
        }
        throw ResidualFlowError.inverseDidNotConverge(block: index, iterations: maxIterations, change: change)
    }

    /// `x` with `x + g(x) = y`, as a differentiable operation of `y` and the block's parameters
    /// (implicit-function gradient; first order only: differentiating it again gives zero).
    func inverse(_ y: Variable<Scalar>, tolerance: Double, maxIterations: Int, index: Int) throws -> Variable<Scalar> {
        let x = try fixedPoint(y.value, tolerance: tolerance, maxIterations: maxIterations, index: index)
        let parameters = trainableParameters
        return Variable.customOperation("residualBlockInverse", value: x, inputs: [y] + parameters) { [self] g, output, needs in
            withGradient { () -> [Variable<Scalar>?] in
                let xl = Variable(output.value, requiresGradient: true)
                let gl = self(xl)
                // wᵀ(I + J) = x̄ᵀ ⇔ w = x̄ − wᵀJ, a contraction.
                var w = g.value
                for _ in 0..<maxIterations {
                    let updated = g.value - gradients(of: [gl], wrt: [xl], seeds: [Variable(w)])[0].value
                    let change = maxAbs(updated - w)
                    w = updated
                    if !(change > tolerance * Swift.max(1, maxAbs(w))) { break }
                }
                let wanted = parameters.enumerated().filter { needs[$0.offset + 1] }.map(\.element)
                let grads = wanted.isEmpty
                    ? [] : gradients(of: [gl], wrt: wanted, seeds: [Variable(-w)]).map { $0.detached() }
                var result: [Variable<Scalar>?] = [needs[0] ? Variable(w) : nil]
                var remaining = grads.makeIterator()
                for i in parameters.indices { result.append(needs[i + 1] ? remaining.next() : nil) }
                return result
            }
        }
    }
}

/// Largest absolute entry (0 for an empty tensor, NaN propagates as ∞).
func maxAbs<S: TensorScalar>(_ x: Tensor<S>) -> Double {
    var m = 0.0
    for v in x.scalars {
        let a = Swift.abs(Double(v))
        if !(a <= m) { m = a.isNaN ? .infinity : a }
    }
    return m
}
