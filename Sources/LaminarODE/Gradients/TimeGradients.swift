import LaminarAutodiff

// Gradients with respect to the integration times, valid for every gradient mode.
//
// For an output y(t_k) = Φ(t_k; t_0, y_0):
//   ∂y(t_k)/∂t_k = f(t_k, y(t_k)), so dL/dt_k = g_kᵀ f(t_k, y(t_k)) for k ≥ 1;
//   ∂Φ/∂t_0 = −(∂Φ/∂y_0) f(t_0, y_0), so dL/dt_0 = −ãᵀ f(t_0, y_0), where ã is the gradient that
//   reaches y_0 through the solve (excluding the direct gradient of the output at t_0).
// Both hold for non-autonomous f. The couplings below add these terms; their own gradients are
// constants (no second-order derivatives with respect to times).

/// Evaluates f once, lazily, the first time a backward rule needs it.
private final class LazyDerivative<D: Dynamics> {
    let f: D
    let t: Double
    let y: [Tensor<D.Scalar>]
    private var cached: [Tensor<D.Scalar>]?

    init(f: D, t: Double, y: [Tensor<D.Scalar>]) {
        self.f = f
        self.t = t
        self.y = y
    }

    var value: [Tensor<D.Scalar>] {
        if let cached { return cached }
        let v = f.evaluate(t, y)
        cached = v
        return v
    }
}

private func dot<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> S {
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            var s: S = 0
            for i in 0..<x.count { s += x[i] * y[i] }
            return s
        }
    }
}

/// `y0` passed through unchanged, with the t₀ coupling on its backward pass.
func attachStartTime<D: Dynamics>(
    _ f: D, _ y0: [Variable<D.Scalar>], times: Variable<D.Scalar>
) -> [Variable<D.Scalar>] {
    attachTime(f, y0, times: times, index: 0, sign: -1)
}

/// The state at output `index` passed through unchanged, with the t_k coupling.
func attachOutputTime<D: Dynamics>(
    _ f: D, _ y: [Variable<D.Scalar>], times: Variable<D.Scalar>, index: Int
) -> [Variable<D.Scalar>] {
    attachTime(f, y, times: times, index: index, sign: 1)
}

/// Identity on `y` whose backward also adds `sign · ⟨g, f(t_index, y)⟩` to the gradient of
/// `times[index]`.
private func attachTime<D: Dynamics>(
    _ f: D, _ y: [Variable<D.Scalar>], times: Variable<D.Scalar>, index: Int, sign: D.Scalar
) -> [Variable<D.Scalar>] {
    let derivative = LazyDerivative(f: f, t: Double(times.value.scalars[index]), y: y.map(\.value))
    let n = times.count
    return y.enumerated().map { c, yc in
        Variable.customOperation("odeint.time", value: yc.value, inputs: [yc, times]) { g, _, needs in
            var timeGrad: Variable<D.Scalar>? = nil
            if needs[1] {
                var tg = Tensor<D.Scalar>(zeros: [n])
                tg[index] = sign * dot(g.value, derivative.value[c])
                timeGrad = Variable(tg)
            }
            return [needs[0] ? g : nil, timeGrad]
        }
    }
}
