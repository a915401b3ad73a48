/// Heap buffer behind a ``Tensor``. Tensors share storage until one of them is mutated
/// (copy-on-write).
public final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    // Safe to share across threads: the buffer is only written while uniquely referenced.
    public let pointer: UnsafeMutablePointer<Scalar>
    public let count: Int

    /// Uninitialised storage for `count` elements (callers must write every element).
    public init(uninitializedCount count: Int) {
        self.count = count
        self.pointer = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(count, 1))
    }

    deinit {
        pointer.deallocate()
    }
}
