/// An N-dimensional array of `Float` or `Double`, contiguous and row-major, with value
/// semantics (copy-on-write storage).
///
/// A rank-0 tensor (shape `[]`) holds one scalar. Shapes are validated on construction;
/// operations with incompatible shapes trap with a message naming both shapes — they are
/// programming errors. Input from users (files, flags) is validated before it reaches here.
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
    /// Extent of each axis.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage<Scalar>

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of axes.
    public var rank: Int { shape.count }

    /// A tensor of `shape` with uninitialised contents; `body` must write every element.
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        let n = shape.reduce(1, *)
        let storage = TensorStorage<Scalar>(uninitializedCount: n)
        body(UnsafeMutableBufferPointer(start: storage.pointer, count: n))
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape) { buf in
            if buf.count > 0 { fill(buf.baseAddress!, value, count: buf.count) }
        }
    }

    /// Zeros of `shape`.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// Ones of `shape`.
    public init(ones shape: [Int]) {
        self.init(repeating: 1, shape: shape)
    }

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Scalar]) {
        precondition(
            shape.reduce(1, *) == scalars.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.init(shape: shape) { buf in
            scalars.withUnsafeBufferPointer { src in
                copyScalars(buf.baseAddress!, from: src.baseAddress!, count: src.count)
            }
        }
    }

    /// A rank-0 tensor.
    public init(_ scalar: Scalar) {
        self.init(shape: [], scalars: [scalar])
    }

    /// A rank-1 tensor.
    public init(_ scalars: [Scalar]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// Converts between element types.
    public init<Other: TensorScalar>(_ other: Tensor<Other>) {
        self.init(shape: other.shape) { dst in
            other.withUnsafeBufferPointer { src in
                for i in 0..<src.count { dst[i] = Scalar(src[i]) }
            }
        }
    }

    /// The elements in row-major order.
    public var scalars: [Scalar] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// The single element of a one-element tensor.
    public var scalar: Scalar {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements")
        return storage.pointer[0]
    }

    /// Element at a multi-index.
    public subscript(_ index: Int...) -> Scalar {
        get { storage.pointer[offset(of: index)] }
        set {
            let o = offset(of: index)
            withUnsafeMutableBufferPointer { $0[o] = newValue }
        }
    }

    func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) for shape \(shape)")
        var o = 0
        for (i, extent) in Swift.zip(index, shape) {
            precondition(i >= 0 && i < extent, "Tensor: index \(index) out of range for shape \(shape)")
            o = o * extent + i
        }
        return o
    }

    /// Read access to the contiguous elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Write access to the contiguous elements (copies the storage first if it is shared).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage<Scalar>(uninitializedCount: storage.count)
            copyScalars(copy.pointer, from: storage.pointer, count: storage.count)
            storage = copy
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The same elements viewed with another shape of equal element count (no copy).
    /// One extent may be `-1` and is inferred.
    ///
    /// - Complexity: O(1): the result shares this tensor's storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "Tensor.reshaped: cannot infer \(newShape) from \(shape)")
            target[inferred] = count / known
        }
        precondition(
            target.reduce(1, *) == count && target.allSatisfy { $0 >= 0 },
            "Tensor.reshaped: \(shape) (\(count) elements) cannot become \(newShape)")
        var t = self
        t.shape = target
        return t
    }

    /// True when every element is finite (no NaN or infinity).
    public var isFinite: Bool {
        withUnsafeBufferPointer { buf in Scalar.allFinite(buf.baseAddress!, count: buf.count) }
    }
}

extension Tensor: Equatable {
    /// Equal shapes and elementwise equal values.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) }
        }
    }
}

extension Tensor: CustomStringConvertible {
    /// The element type, the shape and the first eight elements.
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Scalar.self)>(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
