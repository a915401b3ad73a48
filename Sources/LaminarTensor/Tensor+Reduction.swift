extension Tensor {
    /// Sums this tensor down to `target`, a shape it broadcasts to (the reverse of
    /// broadcasting: axes where `target` has extent 1, or that `target` lacks, are summed).
    public func sum(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        return reduce(.sum, toShape: target, identity: 0)
    }

    func reduce(_ op: ReduceOp, toShape target: [Int], identity: Scalar) -> Tensor {
        precondition(
            broadcastShape(target, shape) == shape,
            "reduce: shape \(shape) cannot be reduced to \(target)")
        let plan = StridedPlan(
            shape: shape, strides0: contiguousStrides(shape),
            strides1: broadcastStrides(target, to: shape))
        return Tensor(shape: target) { out in
            fill(out.baseAddress!, identity, count: out.count)
            withUnsafeBufferPointer { x in
                Scalar.reduceKernel(op, plan, x.baseAddress!, out.baseAddress!)
            }
        }
    }

    /// Shape after reducing `axes` (negative axes count from the end).
    public func reducedShape(axes: [Int], keepDims: Bool) -> [Int] {
        let set = Set(axes.map { normalizeAxis($0, rank: rank) })
        var out: [Int] = []
        for (i, d) in shape.enumerated() {
            if set.contains(i) {
                if keepDims { out.append(1) }
            } else {
                out.append(d)
            }
        }
        return out
    }

    /// Sum over `axes` (all axes when `nil`).
    ///
    /// - Complexity: O(`count`), one pass; accumulates in the element type.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = axes ?? Array(0..<rank)
        let kept = reducedShape(axes: ax, keepDims: true)
        return reduce(.sum, toShape: kept, identity: 0).reshaped(reducedShape(axes: ax, keepDims: keepDims))
    }

    /// Mean over `axes` (all axes when `nil`).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = axes ?? Array(0..<rank)
        let n = ax.map { shape[normalizeAxis($0, rank: rank)] }.reduce(1, *)
        return sum(axes: ax, keepDims: keepDims) * (1 / Scalar(n))
    }

    /// Maximum over `axes` (all axes when `nil`); NaN propagates.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = axes ?? Array(0..<rank)
        let kept = reducedShape(axes: ax, keepDims: true)
        return reduce(.max, toShape: kept, identity: -Scalar.infinity)
            .reshaped(reducedShape(axes: ax, keepDims: keepDims))
    }

    /// `log Σ exp(x)` over `axes`, computed stably (max subtracted first; rows of −∞ give −∞).
    ///
    /// - Complexity: O(`count`), a few passes (maximum, shifted exponentials, sum).
    public func logSumExp(axes: [Int], keepDims: Bool = false) -> Tensor {
        var m = max(axes: axes, keepDims: true)
        m.withUnsafeMutableBufferPointer { buf in
            for i in 0..<buf.count where !buf[i].isFinite { buf[i] = 0 }
        }
        let s = (self - m).map(.exp).sum(axes: axes, keepDims: true).map(.log) + m
        return s.reshaped(reducedShape(axes: axes, keepDims: keepDims))
    }

    /// Sum of all elements as a scalar (accumulated in Double).
    public var sumOfElements: Double {
        withUnsafeBufferPointer { buf in buf.reduce(0.0) { $0 + Double($1) } }
    }
}

/// Maps a possibly negative axis into `0..<rank`.
public func normalizeAxis(_ axis: Int, rank: Int) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < Swift.max(rank, 1), "axis \(axis) out of range for rank \(rank)")
    return a
}
