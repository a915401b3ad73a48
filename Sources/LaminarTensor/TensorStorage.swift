import Synchronization

/// Heap buffer behind a ``Tensor``. Tensors share storage until one of them is mutated
/// (copy-on-write).
///
/// Buffers of 4 KiB and more come from ``BufferPool``: a solver step allocates the same few
/// sizes over and over, and glibc serves blocks of 128 KiB and more with `mmap`, so without
/// reuse every operation on a 512 × 64 Float batch paid a system call and fresh page faults.
public final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    // Safe to share across threads: the buffer is only written while uniquely referenced.
    /// The first element; 64-byte aligned, valid for `max(count, 1)` elements while the storage lives.
    public let pointer: UnsafeMutablePointer<Scalar>
    /// Number of elements.
    public let count: Int

    /// Uninitialised storage for `count` elements (callers must write every element).
    public init(uninitializedCount count: Int) {
        self.count = count
        let bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
        pointer = BufferPool.shared.take(bytes: bytes).bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
    }

    deinit {
        BufferPool.shared.give(UnsafeMutableRawPointer(pointer), bytes: Swift.max(count, 1) * MemoryLayout<Scalar>.stride)
    }
}

/// A bounded cache of freed tensor buffers, keyed by exact byte size. Thread-safe.
public final class BufferPool: Sendable {
    /// The process-wide pool.
    public static let shared = BufferPool(maximumBytes: 256 << 20)

    /// Buffers below this size go straight to malloc (it is fast for them).
    static let minimumPooledBytes = 4096
    /// At most this many free buffers of one size are kept.
    static let maximumPerSize = 64

    private struct State {
        var free: [Int: [UInt]] = [:]  // addresses, by byte size
        var pooledBytes = 0
    }

    private let state: Mutex<State>
    private let maximumBytes: Int

    init(maximumBytes: Int) {
        self.maximumBytes = maximumBytes
        self.state = Mutex(State())
    }

    func take(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= Self.minimumPooledBytes {
            let reused = state.withLock { s -> UInt? in
                guard let p = s.free[bytes]?.popLast() else { return nil }
                s.pooledBytes -= bytes
                return p
            }
            if let reused, let p = UnsafeMutableRawPointer(bitPattern: reused) { return p }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= Self.minimumPooledBytes {
            let address = UInt(bitPattern: pointer)
            let kept = state.withLock { s -> Bool in
                guard s.pooledBytes + bytes <= maximumBytes, s.free[bytes, default: []].count < Self.maximumPerSize else {
                    return false
                }
                s.free[bytes, default: []].append(address)
                s.pooledBytes += bytes
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    /// Bytes currently held for reuse.
    public var pooledBytes: Int { state.withLock { $0.pooledBytes } }
}
