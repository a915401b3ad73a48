// Whole-tensor forms of the fused kernels, for code that derives first- and second-order passes
// by hand (the fused CNF dynamics). Operands are contiguous and of equal shapes.

extension Tensor {
    /// `φ(self)`, `φ′(self)` and, when `second` is set, `φ″(self)` in one pass, for the activation
    /// `op` (`tanh`, `sigmoid`, `softplus`, `relu`, `elu`, `swish`; any other operation is
    /// treated as the identity).
    public func activationDerivatives(_ op: UnaryOp, second: Bool) -> (value: Tensor, first: Tensor, second: Tensor?) {
        let n = count
        var first = Tensor(shape: shape) { _ in }
        var secondTensor: Tensor? = second ? Tensor(shape: shape) { _ in } : nil
        var value = Tensor(shape: shape) { _ in }
        guard n > 0 else { return (value, first, secondTensor) }
        withUnsafeBufferPointer { p in
            value.withUnsafeMutableBufferPointer { v in
                first.withUnsafeMutableBufferPointer { d1 in
                    if secondTensor != nil {
                        secondTensor!.withUnsafeMutableBufferPointer { d2 in
                            Scalar.activationDerivatives(
                                op, p.baseAddress!, value: v.baseAddress!, first: d1.baseAddress!,
                                second: d2.baseAddress!, count: n)
                        }
                    } else {
                        Scalar.activationDerivatives(
                            op, p.baseAddress!, value: v.baseAddress!, first: d1.baseAddress!, second: nil, count: n)
                    }
                }
            }
        }
        return (value, first, secondTensor)
    }

    /// `a ⊙ b (⊙ c)` for tensors of one shape.
    public static func product(_ a: Tensor, _ b: Tensor, _ c: Tensor? = nil) -> Tensor {
        var out = Tensor(shape: a.shape) { _ in }
        out.productKernel(a, b, c, accumulate: false)
        return out
    }

    /// `self += a ⊙ b (⊙ c)` for tensors of one shape.
    public mutating func addProduct(_ a: Tensor, _ b: Tensor, _ c: Tensor? = nil) {
        productKernel(a, b, c, accumulate: true)
    }

    private mutating func productKernel(_ a: Tensor, _ b: Tensor, _ c: Tensor?, accumulate: Bool) {
        precondition(
            a.shape == shape && b.shape == shape && (c?.shape ?? shape) == shape,
            "product: shapes \(a.shape), \(b.shape)\(c.map { ", \($0.shape)" } ?? "") into \(shape) differ")
        let n = count
        guard n > 0 else { return }
        withUnsafeMutableBufferPointer { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    if let c {
                        c.withUnsafeBufferPointer { pc in
                            Scalar.productKernel(
                                pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, out.baseAddress!, count: n,
                                accumulate: accumulate)
                        }
                    } else {
                        Scalar.productKernel(
                            pa.baseAddress!, pb.baseAddress!, nil, out.baseAddress!, count: n, accumulate: accumulate)
                    }
                }
            }
        }
    }

    /// `a ⊙ d`, and `a ⊙ b ⊙ c` added to `accumulator` (stored there when it is `nil`), in one
    /// pass over `a`: the two products of one reverse step through an activation.
    public static func productPair(
        _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: Tensor, accumulatingInto accumulator: inout Tensor?
    ) -> Tensor {
        precondition(
            b.shape == a.shape && c.shape == a.shape && d.shape == a.shape && (accumulator?.shape ?? a.shape) == a.shape,
            "productPair: shapes \(a.shape), \(b.shape), \(c.shape), \(d.shape) differ")
        var y = Tensor(shape: a.shape) { _ in }
        let accumulate = accumulator != nil
        var x = accumulator ?? Tensor(shape: a.shape) { _ in }
        accumulator = nil  // x holds the only reference: no copy on write below
        let n = a.count
        if n > 0 {
            x.withUnsafeMutableBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeBufferPointer { pc in
                                d.withUnsafeBufferPointer { pd in
                                    Scalar.productPairKernel(
                                        pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, pd.baseAddress!,
                                        px.baseAddress!, py.baseAddress!, count: n, accumulate: accumulate)
                                }
                            }
                        }
                    }
                }
            }
        }
        accumulator = x
        return y
    }

    /// `self += op(a) · op(b)` for rank-2 tensors, in one BLAS call (`beta = 1`).
    public mutating func addMatmul(_ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false) {
        precondition(a.rank == 2 && b.rank == 2 && rank == 2, "addMatmul: needs matrices")
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(
            (transposeB ? b.shape[1] : b.shape[0]) == k && shape == [m, n],
            "addMatmul: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "") into \(shape)")
        guard m > 0 && n > 0 && k > 0 else { return }
        withUnsafeMutableBufferPointer { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    Scalar.gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: 1, a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                        beta: 1, c: out.baseAddress!, ldc: n)
                }
            }
        }
    }
}
