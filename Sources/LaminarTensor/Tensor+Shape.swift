extension Tensor {
    /// Axes permuted: `result.shape[i] == shape[permutation[i]]`. Materialises a contiguous copy.
    ///
    /// - Complexity: O(`count`), one strided copy; O(1) for the identity permutation.
    public func transposed(_ permutation: [Int]) -> Tensor {
        precondition(
            permutation.sorted() == Array(0..<rank),
            "transposed: \(permutation) is not a permutation of the axes of \(shape)")
        if permutation == Array(0..<rank) { return self }
        let outShape = permutation.map { shape[$0] }
        let inStrides = contiguousStrides(shape)
        let plan = StridedPlan(
            shape: outShape, strides0: permutation.map { inStrides[$0] },
            strides1: contiguousStrides(outShape))
        return Tensor(shape: outShape) { out in
            withUnsafeBufferPointer { x in Scalar.copyKernel(plan, x.baseAddress!, out.baseAddress!) }
        }
    }

    /// The transpose of a matrix.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed(): needs a matrix, got shape \(shape)")
        return transposed([1, 0])
    }

    /// Elements `range` along `axis`.
    ///
    /// - Complexity: O(elements of the result), one strided copy.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[ax],
            "slice: range \(range) out of bounds for axis \(ax) of shape \(shape)")
        var outShape = shape
        outShape[ax] = range.count
        let inStrides = contiguousStrides(shape)
        let plan = StridedPlan(shape: outShape, strides0: inStrides, strides1: contiguousStrides(outShape))
        let offset = range.lowerBound * inStrides[ax]
        return Tensor(shape: outShape) { out in
            guard out.count > 0 else { return }
            withUnsafeBufferPointer { x in Scalar.copyKernel(plan, x.baseAddress! + offset, out.baseAddress!) }
        }
    }

    /// A zero tensor of `fullShape` with `self` placed at `start` along `axis` (the adjoint of
    /// ``slice(axis:_:)``).
    public func placed(into fullShape: [Int], axis: Int, at start: Int) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        precondition(fullShape.count == rank && start >= 0 && start + shape[ax] <= fullShape[ax],
                     "placed: \(shape) does not fit into \(fullShape) at \(start) on axis \(ax)")
        var result = Tensor(zeros: fullShape)
        let outStrides = contiguousStrides(fullShape)
        let plan = StridedPlan(shape: shape, strides0: contiguousStrides(shape), strides1: outStrides)
        let offset = start * outStrides[ax]
        result.withUnsafeMutableBufferPointer { out in
            guard count > 0 else { return }
            withUnsafeBufferPointer { x in Scalar.copyKernel(plan, x.baseAddress!, out.baseAddress! + offset) }
        }
        return result
    }

    /// Concatenation along `axis`; all other extents must agree.
    ///
    /// - Complexity: O(total elements), one strided copy per part.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenate: no tensors")
        let rank = parts[0].rank
        let ax = normalizeAxis(axis, rank: rank)
        var outShape = parts[0].shape
        outShape[ax] = 0
        for p in parts {
            precondition(p.rank == rank, "concatenate: ranks differ (\(parts.map(\.shape)))")
            for i in 0..<rank where i != ax {
                precondition(p.shape[i] == outShape[i], "concatenate: shapes \(parts.map(\.shape)) differ off axis \(ax)")
            }
            outShape[ax] += p.shape[ax]
        }
        let outStrides = contiguousStrides(outShape)
        return Tensor(shape: outShape) { out in
            var start = 0
            for p in parts {
                if p.count > 0 {
                    let plan = StridedPlan(shape: p.shape, strides0: contiguousStrides(p.shape), strides1: outStrides)
                    p.withUnsafeBufferPointer { x in
                        Scalar.copyKernel(plan, x.baseAddress!, out.baseAddress! + start * outStrides[ax])
                    }
                }
                start += p.shape[ax]
            }
        }
    }

    /// This tensor materialised at a shape it broadcasts to.
    ///
    /// - Complexity: O(elements of `target`); O(1) when the shape is already `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(broadcastShape(shape, target) == target, "broadcast: \(shape) does not broadcast to \(target)")
        let plan = StridedPlan(
            shape: target, strides0: broadcastStrides(shape, to: target), strides1: contiguousStrides(target))
        return Tensor(shape: target) { out in
            withUnsafeBufferPointer { x in Scalar.copyKernel(plan, x.baseAddress!, out.baseAddress!) }
        }
    }

    /// Inserts an axis of extent 1 at `axis`.
    public func unsqueezed(at axis: Int) -> Tensor {
        let ax = axis < 0 ? axis + rank + 1 : axis
        precondition(ax >= 0 && ax <= rank, "unsqueezed: axis \(axis) out of range for shape \(shape)")
        var s = shape
        s.insert(1, at: ax)
        return reshaped(s)
    }

    /// Removes the axes of extent 1 (or only `axis`, which must have extent 1).
    public func squeezed(at axis: Int? = nil) -> Tensor {
        if let axis {
            let ax = normalizeAxis(axis, rank: rank)
            precondition(shape[ax] == 1, "squeezed: axis \(ax) of \(shape) has extent \(shape[ax]), not 1")
            var s = shape
            s.remove(at: ax)
            return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }
}
