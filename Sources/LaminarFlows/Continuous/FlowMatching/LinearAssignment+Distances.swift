import LaminarTensor

extension LinearAssignment {
    /// Rows of at least this many columns get their squared distances from one matrix product.
    static let productDistanceThreshold = 16

    /// Row-major n × n matrix of squared Euclidean distances between the rows of `a` and `b`
    /// (both [n, d]), in Double.
    ///
    /// For d ≥ 16 it is `‖a_i‖² + ‖b_j‖² − 2 a_i·b_j` with the n × n inner products from one
    /// BLAS product (`dgemm`) and clamped at 0: the cancellation error is about
    /// 1e-16 · (‖a_i‖² + ‖b_j‖²), far below the gaps between the costs of distinct assignments
    /// of real data. Narrower rows are summed directly (a product of depth d < 16 is bound by
    /// memory, not arithmetic, and the direct sum is exact to rounding).
    ///
    /// - Complexity: O(n² d) operations; for d ≥ 16 at BLAS speed.
    public static func squaredDistances<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> [Double] {
        precondition(a.shape == b.shape && a.rank == 2, "squaredDistances: shapes \(a.shape), \(b.shape)")
        let n = a.shape[0], d = a.shape[1]
        let x = Tensor<Double>(a), y = Tensor<Double>(b)
        var out = [Double](repeating: 0, count: n * n)
        if d >= productDistanceThreshold {
            let products = matmul(x, y, transposeB: true)
            let xx = rowSquaredNorms(x), yy = rowSquaredNorms(y)
            products.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBufferPointer { out in
                    for i in 0..<n {
                        let xi = xx[i]
                        for j in 0..<n { out[i * n + j] = Swift.max(0, xi + yy[j] - 2 * p[i * n + j]) }
                    }
                }
            }
            return out
        }
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                out.withUnsafeMutableBufferPointer { out in
                    for i in 0..<n {
                        for j in 0..<n {
                            var s = 0.0
                            for k in 0..<d {
                                let diff = x[i * d + k] - y[j * d + k]
                                s += diff * diff
                            }
                            out[i * n + j] = s
                        }
                    }
                }
            }
        }
        return out
    }

    /// ‖x_i‖² for each row of a matrix.
    private static func rowSquaredNorms(_ x: Tensor<Double>) -> [Double] {
        let n = x.shape[0], d = x.shape[1]
        return x.withUnsafeBufferPointer { p in
            (0..<n).map { i in
                var s = 0.0
                for k in 0..<d { s += p[i * d + k] * p[i * d + k] }
                return s
            }
        }
    }
}
