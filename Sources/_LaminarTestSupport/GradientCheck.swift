import LaminarAutodiff

/// Result of a finite-difference gradient check: the largest error over all input elements,
/// measured as `|analytic − numeric| / max(1, |numeric|)`.
public struct GradientCheckResult: CustomStringConvertible, Sendable {
    /// The largest `|analytic − numeric| / max(1, |numeric|)` over all elements (infinity when one
    /// is NaN).
    public var maxError: Double
    /// Index into `inputs` of the worst element (−1 when every error is 0).
    public var worstInput: Int
    /// Flat (row-major) index of the worst element within that input (−1 when every error is 0).
    public var worstElement: Int
    /// The reverse-mode derivative at the worst element.
    public var analytic: Double
    /// The central-difference derivative at the worst element.
    public var numeric: Double
    /// One line for a failing test: the error, where it occurred and both derivatives.
    public var description: String {
        "max error \(maxError) at input \(worstInput)[\(worstElement)]: analytic \(analytic), numeric \(numeric)"
    }
}

/// Compares reverse-mode gradients of the scalar `L(x) = Σ w ⊙ f(x)` (w a fixed random weight,
/// so every output element contributes) with central differences of step `h`.
public func checkGradient(
    _ f: ([Variable<Double>]) -> Variable<Double>, at inputs: [Tensor<Double>],
    step h: Double = 1e-6, seed: UInt64 = 7
) -> GradientCheckResult {
    var rng = RandomGenerator(seed: seed)
    let w = outputWeight(of: f, at: inputs, using: &rng)
    func loss(_ xs: [Variable<Double>]) -> Variable<Double> { (f(xs) * w).sum() }
    let analytic: [Tensor<Double>] = withGradient {
        let vars = inputs.map { Variable($0, requiresGradient: true) }
        return gradients(of: loss(vars), wrt: vars).map(\.value)
    }
    return compare(analytic: analytic, inputs: inputs, h: h) { xs in
        withoutGradient { loss(xs.map { Variable($0) }).value.scalar }
    }
}

/// Second-order check: differentiates `G(x) = Σ v ⊙ ∇ₓL(x)` (the gradient built with
/// `createGraph: true`) and compares with central differences of the first-order gradient.
public func checkSecondOrderGradient(
    _ f: ([Variable<Double>]) -> Variable<Double>, at inputs: [Tensor<Double>],
    step h: Double = 1e-5, seed: UInt64 = 11
) -> GradientCheckResult {
    var rng = RandomGenerator(seed: seed)
    let w = outputWeight(of: f, at: inputs, using: &rng)
    let vs = inputs.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
    func firstOrder(_ vars: [Variable<Double>], createGraph: Bool) -> Variable<Double> {
        let l = (f(vars) * w).sum()
        let gs = gradients(of: l, wrt: vars, createGraph: createGraph)
        var total: Variable<Double>? = nil
        for (g, v) in zip(gs, vs) {
            let term = (g * v).sum()
            total = total.map { $0 + term } ?? term
        }
        return total!
    }
    let analytic: [Tensor<Double>] = withGradient {
        let vars = inputs.map { Variable($0, requiresGradient: true) }
        let g = firstOrder(vars, createGraph: true)
        return gradients(of: g, wrt: vars).map(\.value)
    }
    return compare(analytic: analytic, inputs: inputs, h: h) { xs in
        withGradient {
            firstOrder(xs.map { Variable($0, requiresGradient: true) }, createGraph: false).value.scalar
        }
    }
}

/// The fixed random weight `w` of `L(x) = Σ w ⊙ f(x)`: standard normal, in the shape of
/// `f(inputs)`, so that every output element contributes.
private func outputWeight(
    of f: ([Variable<Double>]) -> Variable<Double>, at inputs: [Tensor<Double>], using rng: inout RandomGenerator
) -> Tensor<Double> {
    Tensor<Double>.randomNormal(f(inputs.map { Variable($0) }).shape, using: &rng)
}

private func compare(
    analytic: [Tensor<Double>], inputs: [Tensor<Double>], h: Double, _ value: ([Tensor<Double>]) -> Double
) -> GradientCheckResult {
    var result = GradientCheckResult(maxError: 0, worstInput: -1, worstElement: -1, analytic: 0, numeric: 0)
    for (k, x) in inputs.enumerated() {
        let a = analytic[k].scalars
        for i in 0..<x.count {
            var plus = inputs, minus = inputs
            plus[k].withUnsafeMutableBufferPointer { $0[i] += h }
            minus[k].withUnsafeMutableBufferPointer { $0[i] -= h }
            let numeric = (value(plus) - value(minus)) / (2 * h)
            let err = Swift.abs(a[i] - numeric) / Swift.max(1, Swift.abs(numeric))
            if err > result.maxError || err.isNaN {
                result = GradientCheckResult(
                    maxError: err.isNaN ? .infinity : err, worstInput: k, worstElement: i,
                    analytic: a[i], numeric: numeric)
            }
        }
    }
    return result
}
