extension Variable {
    /// Sums down to a shape this variable broadcasts to; backward broadcasts back.
    public func sum(toShape target: [Int]) -> Variable {
        if target == shape { return self }
        let inputShape = shape
        return Variable.record("sumToShape", value.sum(toShape: target), [self]) { g, _, _ in
            [g.broadcast(to: inputShape)]
        }
    }

    /// Materialises this variable at a shape it broadcasts to; backward sums back.
    public func broadcast(to target: [Int]) -> Variable {
        if target == shape { return self }
        let inputShape = shape
        return Variable.record("broadcast", value.broadcast(to: target), [self]) { g, _, _ in
            [g.sum(toShape: inputShape)]
        }
    }

    /// Sum over `axes` (all when `nil`).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let ax = axes ?? Array(0..<rank)
        let kept = value.reducedShape(axes: ax, keepDims: true)
        let final = value.reducedShape(axes: ax, keepDims: keepDims)
        return sum(toShape: kept).reshaped(final)
    }

    /// Mean over `axes` (all when `nil`).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let ax = axes ?? Array(0..<rank)
        let n = ax.map { shape[normalizeAxis($0, rank: rank)] }.reduce(1, *)
        return sum(axes: ax, keepDims: keepDims) * (1 / Scalar(n))
    }

    /// `log Σ exp` over `axes`, stable: the maximum (a constant for differentiation, exact since
    /// the result does not depend on it) is subtracted first.
    public func logSumExp(axes: [Int], keepDims: Bool = false) -> Variable {
        var m = value.max(axes: axes, keepDims: true)
        m.withUnsafeMutableBufferPointer { buf in
            for i in 0..<buf.count where !buf[i].isFinite { buf[i] = 0 }
        }
        let shifted = self - Variable(m)
        let result = log(exp(shifted).sum(axes: axes, keepDims: true)) + Variable(m)
        return result.reshaped(value.reducedShape(axes: axes, keepDims: keepDims))
    }
}
