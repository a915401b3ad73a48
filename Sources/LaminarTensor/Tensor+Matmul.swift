extension Tensor {
    /// Matrix product `op(a) · op(b)` of rank-2 tensors through CBLAS (`?gemm`); transposes are
    /// passed to BLAS, never materialised.
    ///
    /// - Complexity: 2·m·n·k floating-point operations.
    public static func matmul(
        _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false
    ) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: needs matrices, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(
            k == kb,
            "matmul: inner extents differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        return Tensor(shape: [m, n]) { out in
            if k == 0 {
                fill(out.baseAddress!, 0, count: out.count)
                return
            }
            guard m > 0 && n > 0 else { return }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    Scalar.gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: 1, a: pa.baseAddress!, lda: a.shape[1],
                        b: pb.baseAddress!, ldb: b.shape[1],
                        beta: 0, c: out.baseAddress!, ldc: n)
                }
            }
        }
    }
}

extension Tensor {
    /// `x·Wᵀ + b` in one BLAS call: the output rows start as `b` and the product is added to
    /// them (`beta = 1`), so the bias costs no separate pass over the batch.
    public static func affine(_ x: Tensor, weight w: Tensor, bias b: Tensor) -> Tensor {
        precondition(x.rank == 2 && w.rank == 2 && x.shape[1] == w.shape[1] && b.shape == [w.shape[0]],
                     "affine: shapes \(x.shape) · \(w.shape)ᵀ + \(b.shape) do not fit")
        let (m, k, n) = (x.shape[0], x.shape[1], w.shape[0])
        return Tensor(shape: [m, n]) { out in
            guard m > 0 && n > 0 else { return }
            // The bias into row 0, then into the other rows by doubling copies.
            b.withUnsafeBufferPointer { pb in copyScalars(out.baseAddress!, from: pb.baseAddress!, count: n) }
            repeatPrefix(out.baseAddress!, prefix: n, total: m * n)
            guard k > 0 else { return }
            x.withUnsafeBufferPointer { px in
                w.withUnsafeBufferPointer { pw in
                    Scalar.gemm(
                        transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1, a: px.baseAddress!, lda: k,
                        b: pw.baseAddress!, ldb: k, beta: 1, c: out.baseAddress!, ldc: n)
                }
            }
        }
    }
}

/// Matrix product of rank-2 tensors.
public func matmul<S>(_ a: Tensor<S>, transposeA: Bool = false, _ b: Tensor<S>, transposeB: Bool = false) -> Tensor<S> {
    Tensor.matmul(a, transposeA: transposeA, b, transposeB: transposeB)
}
