/// Shape of the broadcast of two shapes (NumPy rules: right-aligned, extents equal or 1).
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let rank = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        precondition(da == db || da == 1 || db == 1, "broadcast: shapes \(a) and \(b) are incompatible")
        out[i] = da == 1 ? db : da
    }
    return out
}

extension Tensor {
    /// Applies an elementwise function.
    public func map(_ op: UnaryOp) -> Tensor {
        Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in
                Scalar.unaryKernel(op, x.baseAddress!, out.baseAddress!, count: count)
            }
        }
    }

    /// Applies an elementwise function in place.
    public mutating func apply(_ op: UnaryOp) {
        let n = count
        withUnsafeMutableBufferPointer { buf in
            Scalar.unaryKernel(op, UnsafePointer(buf.baseAddress!), buf.baseAddress!, count: n)
        }
    }

    /// Combines two tensors elementwise with broadcasting.
    public func combined(with other: Tensor, _ op: BinaryOp) -> Tensor {
        if shape == other.shape {
            let plan = StridedPlan(shape: [count], strides0: [1], strides1: [1], strides2: [1])
            return Tensor(shape: shape) { out in
                withUnsafeBufferPointer { a in
                    other.withUnsafeBufferPointer { b in
                        Scalar.binaryKernel(op, plan, a.baseAddress!, b.baseAddress!, out.baseAddress!)
                    }
                }
            }
        }
        let outShape = broadcastShape(shape, other.shape)
        let plan = StridedPlan(
            shape: outShape,
            strides0: broadcastStrides(shape, to: outShape),
            strides1: broadcastStrides(other.shape, to: outShape))
        return Tensor(shape: outShape) { out in
            withUnsafeBufferPointer { a in
                other.withUnsafeBufferPointer { b in
                    Scalar.binaryKernel(op, plan, a.baseAddress!, b.baseAddress!, out.baseAddress!)
                }
            }
        }
    }

    /// `a + b` elementwise, broadcasting by NumPy's rules (``broadcastShape(_:_:)``).
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .add) }
    /// `a − b` elementwise, with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .subtract) }
    /// `a ⊙ b` (elementwise product), with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .multiply) }
    /// `a / b` elementwise, with broadcasting (IEEE division: `x / 0` is ±∞ or NaN, no trap).
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .divide) }
    /// `−a` elementwise.
    public static prefix func - (a: Tensor) -> Tensor { a.map(.negate) }

    /// `a + c` for every element.
    public static func + (a: Tensor, c: Scalar) -> Tensor { a.map(.shift(Double(c))) }
    /// `a − c` for every element.
    public static func - (a: Tensor, c: Scalar) -> Tensor { a.map(.shift(-Double(c))) }
    /// `a · c` for every element.
    public static func * (a: Tensor, c: Scalar) -> Tensor { a.map(.scale(Double(c))) }
    /// `a · (1/c)` for every element (the reciprocal is taken once, in `Double`).
    public static func / (a: Tensor, c: Scalar) -> Tensor { a.map(.scale(1 / Double(c))) }
    /// `c · a` for every element.
    public static func * (c: Scalar, a: Tensor) -> Tensor { a.map(.scale(Double(c))) }
    /// `c + a` for every element.
    public static func + (c: Scalar, a: Tensor) -> Tensor { a.map(.shift(Double(c))) }
    /// `c − a` for every element.
    public static func - (c: Scalar, a: Tensor) -> Tensor {
        var r = a.map(.negate)
        r.apply(.shift(Double(c)))
        return r
    }

    /// Adds `b` to `a`: in place with one BLAS `axpy` when the shapes are equal, otherwise
    /// `a = a + b` with broadcasting (so `a` takes the broadcast shape).
    public static func += (a: inout Tensor, b: Tensor) {
        if a.shape == b.shape {
            let n = a.count
            guard n > 0 else { return }
            a.withUnsafeMutableBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    Scalar.axpy(count: n, alpha: 1, y.baseAddress!, x.baseAddress!)
                }
            }
        } else {
            a = a + b
        }
    }

    /// `self += alpha * x` in place (same shapes).
    public mutating func addScaled(_ x: Tensor, _ alpha: Scalar) {
        precondition(shape == x.shape, "addScaled: shapes \(shape) and \(x.shape) differ")
        let n = count
        guard n > 0 else { return }
        withUnsafeMutableBufferPointer { y in
            x.withUnsafeBufferPointer { xs in
                Scalar.axpy(count: n, alpha: alpha, xs.baseAddress!, y.baseAddress!)
            }
        }
    }
}

/// Elementwise functions as free functions, mirroring the `Variable` API.
public func exp<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.exp) }
/// Natural logarithm, elementwise (`log 0 = −∞`, NaN below 0).
public func log<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.log) }
/// Hyperbolic tangent, elementwise. For `Float` a vectorised rational approximation
/// (Eigen's `ptanh_float`), absolute error below 4e-7.
public func tanh<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.tanh) }
/// Logistic function `1 / (1 + e⁻ˣ)`, elementwise; for `Float` computed as `½ + ½·tanh(x/2)`
/// through the same approximation as ``tanh(_:)``.
public func sigmoid<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.sigmoid) }
/// `log(1 + eˣ)`, elementwise and without overflow (`max(x, 0) + log1p(e^−|x|)`); for `Float`
/// a libm-free series, absolute error below 3e-7.
public func softplus<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.softplus) }
/// `max(x, 0)`, elementwise.
public func relu<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.relu) }
/// ELU (Clevert et al. 2016) with α = 1: `x` for `x > 0`, `eˣ − 1` otherwise.
public func elu<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.elu) }
/// Swish / SiLU (Ramachandran et al. 2017) with β = 1: `x · sigmoid(x)`.
public func swish<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.swish) }
/// Square root, elementwise (NaN below 0).
public func sqrt<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.sqrt) }
/// Absolute value, elementwise.
public func abs<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.abs) }
/// Elementwise maximum of `a` and `b`, with broadcasting.
public func maximum<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.combined(with: b, .maximum) }
/// Elementwise minimum of `a` and `b`, with broadcasting.
public func minimum<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.combined(with: b, .minimum) }
