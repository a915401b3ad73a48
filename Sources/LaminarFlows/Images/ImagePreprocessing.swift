import Foundation
import LaminarData

/// Real NVP / FFJORD preprocessing of 8-bit images: uniform dequantization and the logit
/// transform, with the log-determinant that makes likelihoods comparable with the papers.
///
/// A pixel byte `b` becomes the continuous value `x̃ = b + u`, `u ~ U[0, 1)`, in `[0, 256)`;
/// `v = x̃ / 256`; `y = logit(α + (1 − 2α) v)`. The flow models `y`; the density of `x̃` is
/// `log p(x̃) = log p(y) + Σ log|dy/dx̃|` with
/// `log|dy/dx̃| = log(1 − 2α) − log s − log(1 − s) − log 256`, `s = α + (1 − 2α) v`, and
/// **bits/dim** is `−log p(x̃) / (D log 2)` — the quantity the papers report (a lower bound
/// on the discrete pixels' code length).
public struct ImagePreprocessing: Codable, Sendable, Equatable {
    /// The logit transform's α (FFJORD and Real NVP on MNIST: 1e-6).
    public var alpha: Double
    /// Apply the logit transform (otherwise the flow models `v − 0.5`).
    public var logit: Bool
    /// Random horizontal flips (off by default).
    public var horizontalFlips: Bool

    /// Preprocessing with the logit's `alpha`, the logit on or off, and optional horizontal flips.
    public init(alpha: Double = 1e-6, logit: Bool = true, horizontalFlips: Bool = false) {
        (self.alpha, self.logit, self.horizontalFlips) = (alpha, logit, horizontalFlips)
    }

    /// Throws ``TrainingError/invalidOptions(_:)`` naming `--alpha` when α is outside [0, 0.5).
    public func validate() throws {
        guard alpha >= 0, alpha < 0.5, alpha.isFinite else {
            throw TrainingError.invalidOptions("--alpha must be in [0, 0.5), got \(alpha)")
        }
    }

    /// Images `indices` of `data` as model inputs `[n, pixels]` and the per-image
    /// log-determinant `Σ log|dy/dx̃|` ([n]). `rng` draws the dequantization noise (and flips);
    /// `noise: false` uses `u = ½` (deterministic, for pictures).
    public func transform<S: TensorScalar>(
        _ data: ImageDataset, indices: [Int], noise: Bool = true, using rng: inout RandomGenerator
    ) -> (y: Tensor<S>, logDeterminant: Tensor<S>) {
        let D = data.pixelsPerImage
        var y = [S](repeating: 0, count: indices.count * D)
        var logDet = [S](repeating: 0, count: indices.count)
        let log256 = Foundation.log(256.0)
        for (row, i) in indices.enumerated() {
            let flip = horizontalFlips && rng.uniform() < 0.5
            var total = 0.0
            for r in 0..<data.height {
                for c in 0..<data.width {
                    let source = i * D + r * data.width + (flip ? data.width - 1 - c : c)
                    let u = noise ? rng.uniform() : 0.5
                    let (value, logJacobian) = forward(Double(data.images[source]) + u)
                    y[row * D + r * data.width + c] = S(value)
                    total += logJacobian
                }
            }
            logDet[row] = S(total - Double(D) * log256)
        }
        return (Tensor(shape: [indices.count, D], scalars: y), Tensor(shape: [indices.count], scalars: logDet))
    }

    /// One continuous pixel `x̃ ∈ [0, 256)` → `(y, log|dy/dv|)` with `v = x̃/256` (the −log 256
    /// of `dv/dx̃` is added per pixel by the caller).
    public func forward(_ pixel: Double) -> (Double, Double) {
        let v = pixel / 256
        guard logit else { return (v - 0.5, 0) }
        let s = alpha + (1 - 2 * alpha) * v
        return (Foundation.log(s) - Foundation.log1p(-s), Foundation.log(1 - 2 * alpha) - Foundation.log(s) - Foundation.log1p(-s))
    }

    /// Model space → pixel intensities in [0, 1] (for pictures).
    public func pixels<S: TensorScalar>(_ y: Tensor<S>) -> [Double] {
        y.scalars.map { value in
            let v: Double
            if logit {
                let s = 1 / (1 + Foundation.exp(-Double(value)))
                v = (s - alpha) / (1 - 2 * alpha)
            } else {
                v = Double(value) + 0.5
            }
            return Swift.min(1, Swift.max(0, v))
        }
    }

    /// Bits per dimension from the model's `log p(y)` per image and the preprocessing's
    /// log-determinant: `−(log p(y) + logdet) / (D log 2)`.
    public static func bitsPerDimension(logProbability: Double, logDeterminant: Double, dimension: Int) -> Double {
        -(logProbability + logDeterminant) / (Double(dimension) * Foundation.log(2.0))
    }
}
