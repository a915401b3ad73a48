/// An iteration plan over an N-dimensional index space with two operands, each addressed
/// through its own strides (0 on broadcast axes). Adjacent axes that are contiguous for both
/// operands are merged, so that the innermost run is as long as possible.
public struct StridedPlan: Sendable, Equatable {
    /// Extents of the (merged) axes; the last one is the inner run.
    public var shape: [Int]
    /// Strides (in elements) of operand 0 and operand 1 on each merged axis.
    public var strides0: [Int]
    /// Strides of operand 1 (see ``strides0``).
    public var strides1: [Int]
    /// Strides of the output (always contiguous for binary ops; used as operand 2).
    public var strides2: [Int]

    /// Total number of iterations.
    public var count: Int { shape.reduce(1, *) }

    /// Builds a plan over `shape` for up to three operands with the given strides, merging axes.
    public init(shape: [Int], strides0: [Int], strides1: [Int], strides2: [Int]? = nil) {
        let s2 = strides2 ?? contiguousStrides(shape)
        var sh: [Int] = []
        var a: [Int] = []
        var b: [Int] = []
        var c: [Int] = []
        for i in 0..<shape.count where shape[i] != 1 {
            if let last = sh.indices.last,
               a[last] == strides0[i] * shape[i], b[last] == strides1[i] * shape[i], c[last] == s2[i] * shape[i] {
                sh[last] *= shape[i]
                a[last] = strides0[i]
                b[last] = strides1[i]
                c[last] = s2[i]
            } else {
                sh.append(shape[i])
                a.append(strides0[i])
                b.append(strides1[i])
                c.append(s2[i])
            }
        }
        if sh.isEmpty || shape.contains(0) {
            sh = [shape.contains(0) ? 0 : 1]
            a = [0]; b = [0]; c = [0]
        }
        self.shape = sh
        self.strides0 = a
        self.strides1 = b
        self.strides2 = c
    }

    /// Calls `body(offset0, offset1, offset2, n, inner0, inner1, inner2)` once per inner run.
    @inlinable @inline(__always)
    public func forEachRun(_ body: (Int, Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        let n = shape[rank - 1]
        if n == 0 { return }
        let i0 = strides0[rank - 1], i1 = strides1[rank - 1], i2 = strides2[rank - 1]
        if rank == 1 {
            body(0, 0, 0, n, i0, i1, i2)
            return
        }
        if rank == 2 {
            var o0 = 0, o1 = 0, o2 = 0
            for _ in 0..<shape[0] {
                body(o0, o1, o2, n, i0, i1, i2)
                o0 += strides0[0]; o1 += strides1[0]; o2 += strides2[0]
            }
            return
        }
        var index = [Int](repeating: 0, count: rank - 1)
        var o0 = 0, o1 = 0, o2 = 0
        while true {
            body(o0, o1, o2, n, i0, i1, i2)
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                o0 += strides0[axis]; o1 += strides1[axis]; o2 += strides2[axis]
                if index[axis] < shape[axis] { break }
                o0 -= strides0[axis] * shape[axis]
                o1 -= strides1[axis] * shape[axis]
                o2 -= strides2[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}

/// Row-major strides of a contiguous tensor of this shape.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Strides with which a contiguous tensor of shape `shape` is read when broadcast to `target`
/// (right-aligned, 0 on broadcast axes). `shape` must be broadcast-compatible with `target`.
public func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    var out = [Int](repeating: 0, count: target.count)
    let offset = target.count - shape.count
    for i in 0..<shape.count where shape[i] != 1 {
        out[offset + i] = own[i]
    }
    return out
}
