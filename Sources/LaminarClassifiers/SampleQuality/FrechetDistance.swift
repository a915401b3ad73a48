import Foundation
import LaminarAutodiff

/// The Fréchet distance between Gaussians fitted to two feature sets (Dowson & Landau 1982;
/// the FID of Heusel et al. 2017 computes it on Inception features, Laminar on the penultimate
/// layer of its own trained classifier):
///
///     d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{½} Σ₂ Σ₁^{½})^{½})
///
/// Reported as d² (the convention of FID). Features are rows of [n, k]; computed in Double.
public enum FrechetDistance {
    /// Mean ([k]) and unbiased covariance (row-major k × k) of the rows of `features`.
    public static func moments<S: TensorScalar>(_ features: Tensor<S>) -> (mean: [Double], covariance: [Double]) {
        precondition(features.rank == 2 && features.shape[0] >= 2, "FrechetDistance: need ≥ 2 rows of features")
        let n = features.shape[0], k = features.shape[1]
        let x = features.scalars.map(Double.init)
        var mean = [Double](repeating: 0, count: k)
        for i in 0..<n { for j in 0..<k { mean[j] += x[i * k + j] } }
        for j in 0..<k { mean[j] /= Double(n) }
        var cov = [Double](repeating: 0, count: k * k)
        var row = [Double](repeating: 0, count: k)
        for i in 0..<n {
            for j in 0..<k { row[j] = x[i * k + j] - mean[j] }
            for a in 0..<k where row[a] != 0 {
                for b in a..<k { cov[a * k + b] += row[a] * row[b] }
            }
        }
        for a in 0..<k {
            for b in a..<k {
                cov[a * k + b] /= Double(n - 1)
                cov[b * k + a] = cov[a * k + b]
            }
        }
        return (mean, cov)
    }

    /// d² between N(μ₁, Σ₁) and N(μ₂, Σ₂) (covariances row-major k × k).
    public static func distance(mean1: [Double], covariance1: [Double], mean2: [Double], covariance2: [Double]) -> Double {
        let k = mean1.count
        precondition(mean2.count == k && covariance1.count == k * k && covariance2.count == k * k, "FrechetDistance: sizes")
        let meanTerm = zip(mean1, mean2).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let root1 = SymmetricEigen.squareRoot(covariance1, n: k)
        // M = Σ₁^{½} Σ₂ Σ₁^{½} is symmetric PSD; tr(M^{½}) = Σ √λ(M).
        let m = multiply(multiply(root1, covariance2, k), root1, k)
        var symmetric = m
        for i in 0..<k { for j in 0..<k { symmetric[i * k + j] = 0.5 * (m[i * k + j] + m[j * k + i]) } }
        let traceRoot = SymmetricEigen.decompose(symmetric, n: k).values.reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
        let trace1 = (0..<k).reduce(0) { $0 + covariance1[$1 * k + $1] }
        let trace2 = (0..<k).reduce(0) { $0 + covariance2[$1 * k + $1] }
        return Swift.max(0, meanTerm + trace1 + trace2 - 2 * traceRoot)
    }

    /// d² between Gaussians fitted to two feature sets ([n₁, k] and [n₂, k]).
    public static func distance<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Double {
        let (m1, c1) = moments(a), (m2, c2) = moments(b)
        return distance(mean1: m1, covariance1: c1, mean2: m2, covariance2: c2)
    }

    static func multiply(_ a: [Double], _ b: [Double], _ k: Int) -> [Double] {
        var out = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for l in 0..<k where a[i * k + l] != 0 {
                let ail = a[i * k + l]
                for j in 0..<k { out[i * k + j] += ail * b[l * k + j] }
            }
        }
        return out
    }
}
