import Foundation
import LaminarAutodiff
import LaminarData

/// Unnormalized 2-D target densities `p̃(x) = exp(−E(x))` for density matching, the task of
/// Rezende & Mohamed (2015, Fig. 3) and Chen et al. (2018, Fig. 4).
///
/// `u1`…`u4` are Rezende & Mohamed's test energies; `8gaussians` is the mixture the toy data
/// set samples from. `u2`, `u3` and `u4` do not decay along x₁, so, as in the published
/// figures, they are considered on the strip |x₁| ≤ 4: a soft wall `½((|x₁| − 4)₊ / 0.1)²` is
/// added, which leaves the density inside the plotted square unchanged.
public enum TargetEnergy: String, CaseIterable, Sendable, Codable {
    case u1, u2, u3, u4
    case eightGaussians = "8gaussians"

    /// `E(x)` per row ([n, 2] → [n]), differentiable in `x`.
    public func energy<S: TensorScalar>(_ x: Variable<S>) -> Variable<S> {
        let z1 = x.slice(axis: 1, 0..<1), z2 = x.slice(axis: 1, 1..<2)
        func c(_ v: Double) -> S { S(v) }
        func logAddExp(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
            Variable.concatenate([a, b], axis: 1).logSumExp(axes: [1], keepDims: true)
        }
        func gaussianExponent(_ v: Variable<S>, _ sigma: Double) -> Variable<S> { square(v * c(1 / sigma)) * c(-0.5) }
        let w1 = sin(z1 * c(2 * Double.pi / 4))
        let wall = square(relu(abs(z1) - c(4)) * c(10)) * c(0.5)
        let e: Variable<S>
        switch self {
        case .u1:
            let r = sqrt(square(z1) + square(z2) + c(1e-12))
            e = square((r - c(2)) * c(1 / 0.4)) * c(0.5)
                - logAddExp(gaussianExponent(z1 - c(2), 0.6), gaussianExponent(z1 + c(2), 0.6))
        case .u2:
            e = square((z2 - w1) * c(1 / 0.4)) * c(0.5) + wall
        case .u3:
            let w2 = exp(gaussianExponent(z1 - c(1), 0.6)) * c(3)
            e = -logAddExp(gaussianExponent(z2 - w1, 0.35), gaussianExponent(z2 - w1 + w2, 0.35)) + wall
        case .u4:
            let w3 = sigmoid((z1 - c(1)) * c(1 / 0.3)) * c(3)
            e = -logAddExp(gaussianExponent(z2 - w1, 0.4), gaussianExponent(z2 - w1 + w3, 0.35)) + wall
        case .eightGaussians:
            let sigma = 0.5 / 1.414
            var exponents: [Variable<S>] = []
            for (cx, cy) in ToyDataset.eightCenters {
                let d2 = square(z1 - c(4 * cx / 1.414)) + square(z2 - c(4 * cy / 1.414))
                exponents.append(d2 * c(-0.5 / (sigma * sigma)))
            }
            let normalizer = Foundation.log(8 * 2 * Double.pi * sigma * sigma)
            e = c(normalizer) - Variable.concatenate(exponents, axis: 1).logSumExp(axes: [1], keepDims: true)
        }
        return e.reshaped([-1])
    }

    /// `log ∫ exp(−E)` by the midpoint rule on `[−range, range]²` (exactly 0 for `8gaussians` up
    /// to quadrature error).
    public func logNormalizer(range: Double = 6, resolution: Int = 600) -> Double {
        let grid = logDensityGrid(low: -range, high: range, resolution: resolution)
        let m = grid.max() ?? 0
        let cell = 2 * range / Double(resolution)
        return m + Foundation.log(grid.reduce(0) { $0 + Foundation.exp($1 - m) } * cell * cell)
    }

    /// `−E` at cell centres of `[low, high]²`, rows top (largest y) to bottom, as ``DensityGrid``.
    public func logDensityGrid(low: Double, high: Double, resolution: Int) -> [Double] {
        let cell = (high - low) / Double(resolution)
        var points: [Double] = []
        points.reserveCapacity(2 * resolution * resolution)
        for r in 0..<resolution {
            for col in 0..<resolution {
                points.append(low + (Double(col) + 0.5) * cell)
                points.append(low + (Double(resolution - 1 - r) + 0.5) * cell)
            }
        }
        let x = Tensor(shape: [resolution * resolution, 2], scalars: points)
        return withoutGradient { (-energy(Variable(x))).value.scalars }
    }
}

extension Flow {
    /// Reverse KL objective for density matching, `E_q[log q(x) + E(x)]` with `x` the model's
    /// samples (base → data with the log-determinant, differentiable). It equals
    /// `KL(q‖p) − log Z`; add ``TargetEnergy/logNormalizer(range:resolution:)`` for the KL.
    public func reverseKLLoss(
        _ target: TargetEnergy, batch: Int, using rng: inout RandomGenerator
    ) throws -> (loss: Variable<Scalar>, nfe: Int) {
        let z = Tensor<Scalar>.randomNormal([batch, dimension], using: &rng)
        let out = try inverse(Variable(z))
        let logQ = standardNormalLogDensity(Variable(z)) - out.logDeterminant
        return ((logQ + target.energy(out.value)).mean(), out.nfe)
    }
}
