import LaminarAutodiff
import LaminarData

/// Likelihood evaluation of trained flows.
public enum Evaluation {
    /// Mean negative log-likelihood (nats) of `points` ([n, d]) with the model's exact
    /// log-density, its standard error over points, and the NFE spent.
    public static func negativeLogLikelihood<F: Flow>(
        _ flow: F, points: Tensor<F.Scalar>, batchSize: Int = 2_000
    ) throws -> (nll: Double, standardError: Double, nfe: Int) {
        let n = points.shape[0]
        var values: [Double] = []
        values.reserveCapacity(n)
        var nfe = 0
        var start = 0
        while start < n {
            let m = Swift.min(batchSize, n - start)
            let batch = points.slice(axis: 0, start..<(start + m))
            let (logp, used) = try withoutGradient { () throws -> (Tensor<F.Scalar>, Int) in
                let out = try flow.forward(Variable(batch))
                return (nanToNegativeInfinity(standardNormalLogDensity(out.value) + out.logDeterminant).value, out.nfe)
            }
            values += logp.scalars.map { -Double($0) }
            nfe += used
            start += m
        }
        let mean = values.reduce(0, +) / Double(n)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(Swift.max(n - 1, 1))
        return (mean, (variance / Double(n)).squareRoot(), nfe)
    }
}

/// Bits per dimension of an image model on a set of images.
public struct ImageEvaluation: Sendable {
    /// Mean bits/dim over the images.
    public var bitsPerDimension: Double
    /// Standard error of the mean over images (it includes the dequantization noise and, for
    /// stochastic estimates, the trace estimator's noise).
    public var standardError: Double
    /// Bits/dim of every image (mean over its draws), in the order given.
    public var perImage: [Double]
    /// True when the log-determinant was exact, false for Hutchinson estimates.
    public var exactTrace: Bool
    /// Draws per image (dequantization noise and, when stochastic, trace noise).
    public var draws: Int
    /// Function evaluations spent in total.
    public var nfe: Int
}

extension Evaluation {
    /// Bits/dim of `indices` of `data` under `flow` after `preprocessing`: every image is
    /// dequantized `draws` times; the log-determinant is exact when the model can afford it and
    /// otherwise Hutchinson's unbiased estimate (fresh Rademacher noise per draw), so the
    /// reported mean is unbiased for the dequantized likelihood either way. `progress(done, total)`
    /// is called after every batch (images evaluated so far); an error it throws stops the evaluation.
    public static func imageBitsPerDimension<F: Flow>(
        _ flow: F, data: ImageDataset, indices: [Int], preprocessing: ImagePreprocessing, draws: Int = 1,
        batchSize: Int = 100, seed: UInt64 = 12_345, progress: (Int, Int) throws -> Void = { _, _ in }
    ) throws -> ImageEvaluation {
        precondition(draws >= 1 && batchSize >= 1, "imageBitsPerDimension: draws and batch size must be ≥ 1")
        let exact = flow.exactLogDeterminantIsAffordable
        var rng = RandomGenerator(seed: seed)
        var perImage = [Double](repeating: 0, count: indices.count)
        var nfe = 0
        var start = 0
        while start < indices.count {
            let rows = Array(indices[start..<Swift.min(start + batchSize, indices.count)])
            for _ in 0..<draws {
                let (y, preLogDet): (Tensor<F.Scalar>, Tensor<F.Scalar>) = preprocessing.transform(data, indices: rows, using: &rng)
                let (logp, used) = try withoutGradient { () throws -> (Tensor<F.Scalar>, Int) in
                    let out = exact ? try flow.forward(Variable(y)) : try flow.estimatedForward(Variable(y), using: &rng)
                    return (nanToNegativeInfinity(standardNormalLogDensity(out.value) + out.logDeterminant).value, out.nfe)
                }
                nfe += used
                for (k, (lp, ld)) in zip(logp.scalars, preLogDet.scalars).enumerated() {
                    perImage[start + k] += ImagePreprocessing.bitsPerDimension(
                        logProbability: Double(lp), logDeterminant: Double(ld), dimension: data.pixelsPerImage) / Double(draws)
                }
            }
            start += rows.count
            try progress(start, indices.count)
        }
        let n = Double(perImage.count)
        let mean = perImage.reduce(0, +) / n
        let variance = perImage.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Swift.max(n - 1, 1)
        return ImageEvaluation(
            bitsPerDimension: mean, standardError: (variance / n).squareRoot(), perImage: perImage, exactTrace: exact,
            draws: draws, nfe: nfe)
    }
}
