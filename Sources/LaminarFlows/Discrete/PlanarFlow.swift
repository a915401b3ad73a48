import Foundation
import LaminarAutodiff

/// Settings of a ``PlanarFlow``; stored in checkpoints as JSON.
public struct PlanarFlowConfiguration: Codable, Sendable, Equatable {
    /// Data dimension.
    public var dimension: Int
    /// Number of planar layers K.
    public var depth: Int

    /// Settings for d-dimensional data and K = `depth` layers.
    public init(dimension: Int, depth: Int = 8) {
        self.dimension = dimension
        self.depth = depth
    }

    /// Throws ``FlowError/invalidConfiguration(_:)`` naming the first setting out of range.
    public func validate() throws {
        guard dimension >= 1 else { throw FlowError.invalidConfiguration("dimension must be ≥ 1, got \(dimension)") }
        guard depth >= 1 else { throw FlowError.invalidConfiguration("planar depth K must be ≥ 1, got \(depth)") }
    }
}

/// Planar normalizing flow (Rezende & Mohamed 2015): K layers, each
///
///     x = z + û · tanh(wᵀz + b),   log|det ∂x/∂z| = log(1 + (1 − tanh²(wᵀz + b)) · wᵀû),
///
/// in the generative direction (base → data). Invertibility is enforced by the
/// reparameterisation `û = u + (m(wᵀu) − wᵀu) · w/‖w‖²` with `m(a) = −1 + softplus(a)`, which
/// gives `wᵀû > −1`.
///
/// The density direction (data → base) has no closed form: each layer is inverted by solving
/// the scalar monotone equation `α + c·tanh(α + b) = wᵀx` for `α = wᵀz` (`c = wᵀû`) with a
/// safeguarded Newton iteration, and one Newton step is then recorded on the graph from the
/// converged root. That step leaves the value unchanged and carries exactly the
/// implicit-function gradient `dα = −(∂g/∂θ)/(∂g/∂α)`, so maximum-likelihood training gets
/// correct gradients without differentiating through the iteration.
public final class PlanarFlow<Scalar: TensorScalar>: Flow {
    /// The model's settings (stored in checkpoints).
    public let configuration: PlanarFlowConfiguration
    /// Per layer: `u` [1, d], `w` [1, d], `b` [1].
    let u: [Variable<Scalar>]
    let w: [Variable<Scalar>]
    let b: [Variable<Scalar>]

    /// Fresh layers close to the identity: `u ~ U(−0.1, 0.1)`, `w ~ U(−1/√d, 1/√d)`, `b = 0`.
    public init(_ configuration: PlanarFlowConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        let d = configuration.dimension
        let bound = Scalar(1 / Double(d).squareRoot())
        var u: [Variable<Scalar>] = [], w: [Variable<Scalar>] = [], b: [Variable<Scalar>] = []
        for _ in 0..<configuration.depth {
            u.append(Variable(.randomUniform([1, d], low: -0.1, high: 0.1, using: &rng), requiresGradient: true))
            w.append(Variable(.randomUniform([1, d], low: -bound, high: bound, using: &rng), requiresGradient: true))
            b.append(Variable(Tensor<Scalar>(zeros: [1]), requiresGradient: true))
        }
        (self.u, self.w, self.b) = (u, w, b)
    }

    /// The data dimension d.
    public var dimension: Int { configuration.dimension }

    /// `layers.<k>.u`, `.w`, `.b` for each layer k, in order.
    public var namedParameters: [(String, Variable<Scalar>)] {
        (0..<configuration.depth).flatMap { i in
            [("layers.\(i).u", u[i]), ("layers.\(i).w", w[i]), ("layers.\(i).b", b[i])]
        }
    }

    /// `û` of layer `i` ([1, d]) and `c = wᵀû` ([1, 1]), both on the graph.
    func constrained(_ i: Int) -> (uHat: Variable<Scalar>, c: Variable<Scalar>) {
        let wu = (w[i] * u[i]).sum(axes: [1], keepDims: true)  // [1, 1]
        let m = softplus(wu) - Scalar(1)
        let norm2 = square(w[i]).sum(axes: [1], keepDims: true) + Scalar(1e-12)
        let uHat = u[i] + (m - wu) * w[i] / norm2
        return (uHat, (w[i] * uHat).sum(axes: [1], keepDims: true))
    }

    /// Base → data (the generative direction), closed form.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try checkShape(z)
        var h = z
        var logDet: Variable<Scalar>? = nil
        for i in 0..<configuration.depth {
            let (uHat, c) = constrained(i)
            let a = tanh(matmul(h, w[i], transposeB: true) + b[i])  // [n, 1]
            let ld = log((Scalar(1) - square(a)) * c + Scalar(1)).reshaped([-1])
            h = h + a * uHat
            logDet = logDet.map { $0 + ld } ?? ld
        }
        return FlowOutput(value: h, logDeterminant: logDet!)
    }

    /// Data → base: each layer inverted by a root solve (see the type's documentation).
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try checkShape(x)
        var h = x
        var logDet: Variable<Scalar>? = nil
        for i in (0..<configuration.depth).reversed() {
            let (uHat, c) = constrained(i)
            let wx = matmul(h, w[i], transposeB: true)  // [n, 1]
            let root = Variable(Self.solve(target: wx.value, c: Double(c.value.scalars[0]), b: Double(b[i].value.scalars[0])))
            // One recorded Newton step from the converged root: value ≈ root, gradient = implicit.
            let a0 = tanh(root + b[i])
            let g = root + a0 * c - wx
            let slope = (Scalar(1) - square(a0)) * c + Scalar(1)
            let alpha = root - g / slope
            let a = tanh(alpha + b[i])
            h = h - a * uHat
            let ld = -log((Scalar(1) - square(a)) * c + Scalar(1)).reshaped([-1])
            logDet = logDet.map { $0 + ld } ?? ld
        }
        return FlowOutput(value: h, logDeterminant: logDet!)
    }

    /// Mean negative log-likelihood of the batch `x` ([n, d]) in nats, through the Newton inversions.
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let nll = -(try logProbability(x)).mean()
        return TrainingLoss(loss: nll, nll: Double(nll.value.scalar))
    }

    /// Solves `α + c·tanh(α + b) = s` per entry of `target` (c > −1, so the left side is
    /// increasing): Newton steps kept inside a shrinking bracket, bisection when they leave it.
    static func solve(target: Tensor<Scalar>, c: Double, b: Double) -> Tensor<Scalar> {
        let s = target.scalars
        var out = [Scalar](repeating: 0, count: s.count)
        for (k, sv) in s.enumerated() {
            let t = Double(sv)
            var lo = t - Swift.abs(c) - 1, hi = t + Swift.abs(c) + 1
            var alpha = t
            for _ in 0..<100 {
                let th = Foundation.tanh(alpha + b)
                let g = alpha + c * th - t
                if Swift.abs(g) < 1e-13 * Swift.max(1, Swift.abs(t)) { break }
                if g > 0 { hi = alpha } else { lo = alpha }
                let slope = 1 + c * (1 - th * th)
                var next = alpha - g / slope
                if !(next > lo && next < hi) || !slope.isFinite || slope <= 0 { next = 0.5 * (lo + hi) }
                if next == alpha { break }
                alpha = next
            }
            out[k] = Scalar(alpha)
        }
        return Tensor(shape: target.shape, scalars: out)
    }

    private func checkShape(_ x: Variable<Scalar>) throws {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "planar flow input")
        }
    }
}
