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

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .add) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .subtract) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .multiply) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, .divide) }
    public static prefix func - (a: Tensor) -> Tensor { a.map(.negate) }

    public static func + (a: Tensor, c: Scalar) -> Tensor { a.map(.shift(Double(c))) }
    public static func - (a: Tensor, c: Scalar) -> Tensor { a.map(.shift(-Double(c))) }
    public static func * (a: Tensor, c: Scalar) -> Tensor { a.map(.scale(Double(c))) }
    public static func / (a: Tensor, c: Scalar) -> Tensor { a.map(.scale(1 / Double(c))) }
    public static func * (c: Scalar, a: Tensor) -> Tensor { a.map(.scale(Double(c))) }
    public static func + (c: Scalar, a: Tensor) -> Tensor { a.map(.shift(Double(c))) }
    public static func - (c: Scalar, a: Tensor) -> Tensor {
        var r = a.map(.negate)
        r.apply(.shift(Double(c)))
        return r
    }

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
public func log<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.log) }
public func tanh<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.tanh) }
public func sigmoid<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.sigmoid) }
public func softplus<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.softplus) }
public func relu<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.relu) }
public func elu<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.elu) }
public func swish<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.swish) }
public func sqrt<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.sqrt) }
public func abs<S>(_ x: Tensor<S>) -> Tensor<S> { x.map(.abs) }
public func maximum<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.combined(with: b, .maximum) }
public func minimum<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { a.combined(with: b, .minimum) }
