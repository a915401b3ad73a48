/// Vector–Jacobian product of `f` at `x` with cotangent `v`: returns `f(x)` and `vᵀ ∂f/∂x`.
public func vjp<S>(
    of f: (Variable<S>) -> Variable<S>, at x: Tensor<S>, cotangent v: Tensor<S>
) -> (value: Tensor<S>, vjp: Tensor<S>) {
    withGradient {
        let xv = Variable(x, requiresGradient: true)
        let y = f(xv)
        let g = gradients(of: [y], wrt: [xv], seeds: [Variable(v)])[0]
        return (y.value, g.value)
    }
}

/// Jacobian–vector product of `f` at `x` along `v`: returns `f(x)` and `∂f/∂x · v`.
///
/// Computed with the double-VJP trick: `u ↦ uᵀ J` is linear in a dummy cotangent `u`, so
/// differentiating `(uᵀ J)·v` with respect to `u` gives `J v`. Costs two reverse passes.
public func jvp<S>(
    of f: (Variable<S>) -> Variable<S>, at x: Tensor<S>, tangent v: Tensor<S>
) -> (value: Tensor<S>, jvp: Tensor<S>) {
    withGradient {
        let xv = Variable(x, requiresGradient: true)
        let y = f(xv)
        let u = Variable(Tensor<S>(zeros: y.shape), requiresGradient: true)
        let uJ = gradients(of: [y], wrt: [xv], seeds: [u], createGraph: true)[0]
        let jv = gradients(of: [uJ], wrt: [u], seeds: [Variable(v)])[0]
        return (y.value, jv.value)
    }
}

/// Full Jacobian of `f` at `x`, shape `f(x).shape + x.shape`, by one VJP per output element.
/// Meant for small problems (tests, 2-D flows).
///
/// - Complexity: one forward pass and one reverse pass per element of `f(x)`.
public func jacobian<S>(of f: (Variable<S>) -> Variable<S>, at x: Tensor<S>) -> Tensor<S> {
    withGradient {
        let xv = Variable(x, requiresGradient: true)
        let y = f(xv)
        var rows: [S] = []
        rows.reserveCapacity(y.count * x.count)
        for i in 0..<y.count {
            var seed = Tensor<S>(zeros: y.shape)
            seed.withUnsafeMutableBufferPointer { $0[i] = 1 }
            rows += gradients(of: [y], wrt: [xv], seeds: [Variable(seed)])[0].value.scalars
        }
        return Tensor(shape: y.shape + x.shape, scalars: rows)
    }
}
