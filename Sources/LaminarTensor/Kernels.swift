import RealModule

// Generic kernels, instantiated with a concrete type by the `TensorScalar` conformances.
// Every `switch` on the operation sits outside the element loop.

@inline(__always)
func unaryLoop<S: TensorScalar>(
    _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, _ f: (S) -> S
) {
    for i in 0..<n { y[i] = f(x[i]) }
}

@inline(__always)
func stableSigmoid<S: TensorScalar>(_ v: S) -> S {
    if v >= 0 {
        return 1 / (1 + S.exp(-v))
    }
    let e = S.exp(v)
    return e / (1 + e)
}

@inline(__always)
func stableSoftplus<S: TensorScalar>(_ v: S) -> S {
    // softplus(v) = max(v, 0) + log1p(exp(-|v|)); never overflows.
    Swift.max(v, 0) + S.log(onePlus: S.exp(-Swift.abs(v)))
}

func applyUnary<S: TensorScalar>(_ op: UnaryOp, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int) {
    switch op {
    case .negate: unaryLoop(x, y, n) { -$0 }
    case .exp: unaryLoop(x, y, n) { S.exp($0) }
    case .log: unaryLoop(x, y, n) { S.log($0) }
    case .tanh: unaryLoop(x, y, n) { S.tanh($0) }
    case .sigmoid: unaryLoop(x, y, n) { stableSigmoid($0) }
    case .softplus: unaryLoop(x, y, n) { stableSoftplus($0) }
    case .relu: unaryLoop(x, y, n) { $0 > 0 ? $0 : 0 }
    case .elu: unaryLoop(x, y, n) { $0 > 0 ? $0 : S.expMinusOne($0) }
    case .swish: unaryLoop(x, y, n) { $0 * stableSigmoid($0) }
    case .sqrt: unaryLoop(x, y, n) { $0.squareRoot() }
    case .square: unaryLoop(x, y, n) { $0 * $0 }
    case .abs: unaryLoop(x, y, n) { Swift.abs($0) }
    case .reciprocal: unaryLoop(x, y, n) { 1 / $0 }
    case .sin: unaryLoop(x, y, n) { S.sin($0) }
    case .cos: unaryLoop(x, y, n) { S.cos($0) }
    case .log1p: unaryLoop(x, y, n) { S.log(onePlus: $0) }
    case .step: unaryLoop(x, y, n) { $0 > 0 ? 1 : 0 }
    case .scale(let c):
        let s = S(c)
        unaryLoop(x, y, n) { $0 * s }
    case .shift(let c):
        let s = S(c)
        unaryLoop(x, y, n) { $0 + s }
    case .power(let p):
        if p == 2 {
            unaryLoop(x, y, n) { $0 * $0 }
        } else if p == 0.5 {
            unaryLoop(x, y, n) { $0.squareRoot() }
        } else if p == -1 {
            unaryLoop(x, y, n) { 1 / $0 }
        } else if p.rounded() == p, Swift.abs(p) < 64 {
            let k = Int(p)
            unaryLoop(x, y, n) { S.pow($0, k) }
        } else {
            let s = S(p)
            unaryLoop(x, y, n) { S.pow($0, s) }
        }
    case .clamp(let lo, let hi):
        let l = S(lo), h = S(hi)
        unaryLoop(x, y, n) { Swift.min(Swift.max($0, l), h) }
    case .greaterThan(let c):
        let s = S(c)
        unaryLoop(x, y, n) { $0 > s ? 1 : 0 }
    case .constant(let c):
        let s = S(c)
        for i in 0..<n { y[i] = s }
    }
}

@inline(__always)
func binaryLoop<S: TensorScalar>(
    _ plan: StridedPlan, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>,
    _ f: (S, S) -> S
) {
    plan.forEachRun { o0, o1, o2, n, s0, s1, s2 in
        let pa = a + o0, pb = b + o1, po = out + o2
        if s0 == 1 && s1 == 1 && s2 == 1 {
            for i in 0..<n { po[i] = f(pa[i], pb[i]) }
        } else if s0 == 1 && s1 == 0 && s2 == 1 {
            let v = pb[0]
            for i in 0..<n { po[i] = f(pa[i], v) }
        } else if s0 == 0 && s1 == 1 && s2 == 1 {
            let v = pa[0]
            for i in 0..<n { po[i] = f(v, pb[i]) }
        } else {
            for i in 0..<n { po[i * s2] = f(pa[i * s0], pb[i * s1]) }
        }
    }
}

func applyBinary<S: TensorScalar>(
    _ op: BinaryOp, _ plan: StridedPlan, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>
) {
    switch op {
    case .add: binaryLoop(plan, a, b, out) { $0 + $1 }
    case .subtract: binaryLoop(plan, a, b, out) { $0 - $1 }
    case .multiply: binaryLoop(plan, a, b, out) { $0 * $1 }
    case .divide: binaryLoop(plan, a, b, out) { $0 / $1 }
    case .maximum: binaryLoop(plan, a, b, out) { Swift.max($0, $1) }
    case .minimum: binaryLoop(plan, a, b, out) { Swift.min($0, $1) }
    case .tanhBackward: binaryLoop(plan, a, b, out) { $0 * (1 - $1 * $1) }
    case .reluBackward: binaryLoop(plan, a, b, out) { $1 > 0 ? $0 : 0 }
    }
}

@inline(__always)
func reduceLoop<S: TensorScalar>(
    _ plan: StridedPlan, _ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, _ f: (S, S) -> S
) {
    plan.forEachRun { o0, o1, _, n, s0, s1, _ in
        let px = x + o0, po = out + o1
        if s1 == 0 {
            var acc = po[0]
            if s0 == 1 && n >= 16 {
                // Eight independent chains (one chain is one dependent addition per element):
                // the convolutions' bias gradients sum runs of H·W contiguous values.
                var c0 = px[0], c1 = px[1], c2 = px[2], c3 = px[3], c4 = px[4], c5 = px[5], c6 = px[6], c7 = px[7]
                var i = 8
                while i + 8 <= n {
                    c0 = f(c0, px[i]); c1 = f(c1, px[i + 1]); c2 = f(c2, px[i + 2]); c3 = f(c3, px[i + 3])
                    c4 = f(c4, px[i + 4]); c5 = f(c5, px[i + 5]); c6 = f(c6, px[i + 6]); c7 = f(c7, px[i + 7])
                    i += 8
                }
                while i < n { c0 = f(c0, px[i]); i += 1 }
                acc = f(acc, f(f(f(c0, c1), f(c2, c3)), f(f(c4, c5), f(c6, c7))))
            } else if s0 == 1 {
                for i in 0..<n { acc = f(acc, px[i]) }
            } else {
                for i in 0..<n { acc = f(acc, px[i * s0]) }
            }
            po[0] = acc
        } else if s0 == 1 && s1 == 1 {
            for i in 0..<n { po[i] = f(po[i], px[i]) }
        } else {
            for i in 0..<n { po[i * s1] = f(po[i * s1], px[i * s0]) }
        }
    }
}

func applyReduce<S: TensorScalar>(_ op: ReduceOp, _ plan: StridedPlan, _ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>) {
    switch op {
    case .sum: reduceLoop(plan, x, out) { $0 + $1 }
    case .max: reduceLoop(plan, x, out) { ($1 > $0 || $1.isNaN) ? $1 : $0 }  // NaN propagates
    }
}

func applyCopy<S: TensorScalar>(_ plan: StridedPlan, _ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>) {
    plan.forEachRun { o0, o1, _, n, s0, s1, _ in
        let px = x + o0, po = out + o1
        if s0 == 1 && s1 == 1 {
            copyScalars(po, from: px, count: n)
        } else {
            for i in 0..<n { po[i * s1] = px[i * s0] }
        }
    }
}

func applyErrorStatistics<S: TensorScalar>(
    _ e: UnsafePointer<S>, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ n: Int, _ rtol: Double, _ atol: Double
) -> (sumOfSquares: Double, maxAbs: Double) {
    var sum = 0.0
    var worst = 0.0
    for i in 0..<n {
        let scale = atol + rtol * Swift.max(Swift.abs(Double(a[i])), Swift.abs(Double(b[i])))
        let r = Double(e[i]) / scale
        sum += r * r
        let m = Swift.abs(r)
        if m > worst || m.isNaN { worst = m }
    }
    return (sum, worst)
}

func applyAllFinite<S: TensorScalar>(_ x: UnsafePointer<S>, _ n: Int) -> Bool {
    // Accumulating x·0 turns any NaN or infinity into NaN without a branch per element.
    var acc: S = 0
    for i in 0..<n { acc += x[i] * 0 }
    return !acc.isNaN
}
