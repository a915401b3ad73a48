import RealModule

// Kernels for hand-derived first- and second-order passes through an MLP (the fused CNF
// dynamics): an activation together with its first two derivatives in one pass, and
// elementwise products with optional accumulation.

/// `value = φ(p)`, `first = φ′(p)` and, when given, `second = φ″(p)` for the activation named by
/// `op` (`tanh`, `sigmoid`, `softplus`, `relu`, `elu`, `swish`; anything else is the identity).
/// The scalar functions are passed in so that `Float` can use its vectorisable approximations.
@inline(__always)
func activationDerivativesLoop<S: TensorScalar>(
    _ op: UnaryOp, _ p: UnsafePointer<S>, _ value: UnsafeMutablePointer<S>, _ first: UnsafeMutablePointer<S>,
    _ second: UnsafeMutablePointer<S>?, _ n: Int,
    tanh: (S) -> S, sigmoid: (S) -> S, softplus: (S) -> S, exp: (S) -> S
) {
    switch op {
    case .tanh:
        for i in 0..<n {
            let v = tanh(p[i])
            value[i] = v
            first[i] = 1 - v * v
        }
        if let second { for i in 0..<n { second[i] = -2 * value[i] * first[i] } }
    case .sigmoid:
        for i in 0..<n {
            let s = sigmoid(p[i])
            value[i] = s
            first[i] = s * (1 - s)
        }
        if let second { for i in 0..<n { second[i] = first[i] * (1 - 2 * value[i]) } }
    case .softplus:
        for i in 0..<n {
            value[i] = softplus(p[i])
            first[i] = sigmoid(p[i])
        }
        if let second { for i in 0..<n { second[i] = first[i] * (1 - first[i]) } }
    case .relu:
        for i in 0..<n {
            let x = p[i]
            value[i] = x > 0 ? x : 0
            first[i] = x > 0 ? 1 : 0
        }
        if let second { for i in 0..<n { second[i] = 0 } }
    case .elu:
        for i in 0..<n {
            let x = p[i]
            let e = exp(x < 0 ? x : 0)
            value[i] = x > 0 ? x : e - 1
            first[i] = x > 0 ? 1 : e
        }
        if let second { for i in 0..<n { second[i] = p[i] > 0 ? 0 : first[i] } }
    case .swish:
        for i in 0..<n {
            let x = p[i]
            let s = sigmoid(x)
            let sd = s * (1 - s)
            value[i] = x * s
            first[i] = s + x * sd
            if let second { second[i] = sd * (2 + x * (1 - 2 * s)) }
        }
    default:
        for i in 0..<n {
            value[i] = p[i]
            first[i] = 1
        }
        if let second { for i in 0..<n { second[i] = 0 } }
    }
}

func applyActivationDerivatives<S: TensorScalar>(
    _ op: UnaryOp, _ p: UnsafePointer<S>, _ value: UnsafeMutablePointer<S>, _ first: UnsafeMutablePointer<S>,
    _ second: UnsafeMutablePointer<S>?, _ n: Int
) {
    activationDerivativesLoop(
        op, p, value, first, second, n, tanh: { S.tanh($0) }, sigmoid: { stableSigmoid($0) },
        softplus: { stableSoftplus($0) }, exp: { S.exp($0) })
}

func applyActivationDerivativesFloat(
    _ op: UnaryOp, _ p: UnsafePointer<Float>, _ value: UnsafeMutablePointer<Float>,
    _ first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>?, _ n: Int
) {
    if case .tanh = op {
        // The common case, as plain single-pass loops LLVM vectorises (the closure form below
        // is not).
        if let second {
            for i in 0..<n {
                let v = fastTanh(p[i]), d = 1 - v * v
                value[i] = v
                first[i] = d
                second[i] = -2 * v * d
            }
        } else {
            for i in 0..<n {
                let v = fastTanh(p[i])
                value[i] = v
                first[i] = 1 - v * v
            }
        }
        return
    }
    activationDerivativesLoop(
        op, p, value, first, second, n, tanh: { fastTanh($0) }, sigmoid: { 0.5 + 0.5 * fastTanh(0.5 * $0) },
        softplus: { fastSoftplus($0) }, exp: { fastExp($0) })
}

/// `out (+)= a ⊙ b (⊙ c)` over `n` contiguous elements.
func applyProduct<S: TensorScalar>(
    _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: UnsafePointer<S>?, _ out: UnsafeMutablePointer<S>, _ n: Int,
    accumulate: Bool
) {
    switch (c, accumulate) {
    case (nil, false): for i in 0..<n { out[i] = a[i] * b[i] }
    case (nil, true): for i in 0..<n { out[i] += a[i] * b[i] }
    case (let c?, false): for i in 0..<n { out[i] = a[i] * b[i] * c[i] }
    case (let c?, true): for i in 0..<n { out[i] += a[i] * b[i] * c[i] }
    }
}

/// `x (+)= a ⊙ b ⊙ c` and `y = a ⊙ d` over `n` contiguous elements, reading `a` once.
func applyProductPair<S: TensorScalar>(
    _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: UnsafePointer<S>, _ d: UnsafePointer<S>,
    _ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, accumulate: Bool
) {
    if accumulate {
        for i in 0..<n {
            let ai = a[i]
            x[i] += ai * b[i] * c[i]
            y[i] = ai * d[i]
        }
    } else {
        for i in 0..<n {
            let ai = a[i]
            x[i] = ai * b[i] * c[i]
            y[i] = ai * d[i]
        }
    }
}
