import LaminarTensor

/// Largest elementwise `|a − b| / (atol + rtol·|b|)`; ≤ 1 means "close". Shapes must match.
public func closeness<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, rtol: Double, atol: Double) -> Double {
    precondition(a.shape == b.shape, "closeness: shapes \(a.shape) and \(b.shape) differ")
    var worst = 0.0
    for (x, y) in zip(a.scalars, b.scalars) {
        let e = Swift.abs(Double(x) - Double(y)) / (atol + rtol * Swift.abs(Double(y)))
        if e.isNaN { return .infinity }
        worst = Swift.max(worst, e)
    }
    return worst
}

/// True when `a` and `b` have equal shapes and agree elementwise within `atol + rtol·|b|`.
public func isClose<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, rtol: Double = 1e-6, atol: Double = 1e-9) -> Bool {
    a.shape == b.shape && closeness(a, b, rtol: rtol, atol: atol) <= 1
}

/// Maximum absolute elementwise difference.
public func maxAbsDifference<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Double {
    precondition(a.shape == b.shape, "maxAbsDifference: shapes \(a.shape) and \(b.shape) differ")
    return zip(a.scalars, b.scalars).reduce(0) { Swift.max($0, Swift.abs(Double($1.0) - Double($1.1))) }
}
