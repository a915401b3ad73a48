import Foundation

/// Eigenvalues and eigenvectors of a real symmetric matrix by cyclic Jacobi rotations
/// (Golub & Van Loan, *Matrix Computations*, §8.5): slow for large matrices but accurate to
/// a few ulps of the largest eigenvalue, and plenty for the 64 × 64 feature covariances of
/// ``FrechetDistance``.
public enum SymmetricEigen {
    /// `(values, vectors)` of the row-major n × n symmetric `matrix`: `vectors[k]` (row k of the
    /// result, length n) is the unit eigenvector of `values[k]`.
    /// - Complexity: O(n³) per sweep; converges quadratically, typically in 6–10 sweeps.
    public static func decompose(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [[Double]]) {
        precondition(matrix.count == n * n, "SymmetricEigen: \(matrix.count) entries for n = \(n)")
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = Swift.max(a.map(Swift.abs).max() ?? 0, .leastNormalMagnitude)
        for _ in 0..<60 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<Swift.max(p + 1, n) { off += a[p * n + q] * a[p * n + q] } }
            if off.squareRoot() <= 1e-15 * scale * Double(n) { break }
            for p in 0..<n {
                for q in (p + 1)..<Swift.max(p + 1, n) {
                    let apq = a[p * n + q]
                    guard Swift.abs(apq) > 1e-300 else { continue }
                    // The rotation that annihilates a[p, q] (the stable formulas of §8.5.2).
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let values = (0..<n).map { a[$0 * n + $0] }
        let vectors = (0..<n).map { k in (0..<n).map { v[$0 * n + k] } }
        return (values, vectors)
    }

    /// The symmetric square root of a symmetric positive semi-definite matrix (negative
    /// eigenvalues from rounding are clamped to 0).
    public static func squareRoot(_ matrix: [Double], n: Int) -> [Double] {
        let (values, vectors) = decompose(matrix, n: n)
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let r = Swift.max(values[k], 0).squareRoot()
            guard r > 0 else { continue }
            let u = vectors[k]
            for i in 0..<n { for j in 0..<n { out[i * n + j] += r * u[i] * u[j] } }
        }
        return out
    }
}
