/// Matrix product `op(a)·op(b)` through BLAS. The backward products also go to BLAS with
/// transpose flags (no transposed copies), and are skipped for inputs that need no gradient.
public func matmul<S>(
    _ a: Variable<S>, transposeA: Bool = false, _ b: Variable<S>, transposeB: Bool = false
) -> Variable<S> {
    let value = Tensor.matmul(a.value, transposeA: transposeA, b.value, transposeB: transposeB)
    return Variable.record("matmul", value, [a, b]) { g, _, needs in
        var ga: Variable<S>? = nil
        var gb: Variable<S>? = nil
        switch (transposeA, transposeB) {
        case (false, false):  // C = A·B
            if needs[0] { ga = matmul(g, b, transposeB: true) }
            if needs[1] { gb = matmul(a, transposeA: true, g) }
        case (true, false):  // C = Aᵀ·B
            if needs[0] { ga = matmul(b, g, transposeB: true) }
            if needs[1] { gb = matmul(a, g) }
        case (false, true):  // C = A·Bᵀ
            if needs[0] { ga = matmul(g, b) }
            if needs[1] { gb = matmul(g, transposeA: true, a) }
        case (true, true):  // C = Aᵀ·Bᵀ
            if needs[0] { ga = matmul(b, transposeA: true, g, transposeB: true) }
            if needs[1] { gb = matmul(g, transposeA: true, a, transposeB: true) }
        }
        return [ga, gb]
    }
}

/// Affine map of a batch: `x·Wᵀ + b` with `x` of shape [n, in], `W` [out, in] (PyTorch's layout),
/// `b` [out].
public func linear<S>(_ x: Variable<S>, weight: Variable<S>, bias: Variable<S>?) -> Variable<S> {
    guard let bias else { return matmul(x, weight, transposeB: true) }
    guard x.rank == 2, weight.rank == 2, bias.shape == [weight.shape[0]] else {
        return matmul(x, weight, transposeB: true) + bias
    }
    // One GEMM with the bias as its initial output; the backward rules are ordinary
    // differentiable ops, so higher derivatives work as for the unfused form.
    return Variable.record("linear", Tensor.affine(x.value, weight: weight.value, bias: bias.value), [x, weight, bias]) { g, _, needs in
        [needs[0] ? matmul(g, weight) : nil,
         needs[1] ? matmul(g, transposeA: true, x) : nil,
         needs[2] ? g.sum(axes: [0]) : nil]
    }
}
