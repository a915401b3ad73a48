import Dispatch

/// Data parallelism over the rows of a batch: one block of rows per configured thread
/// (``BLASThreads/set(_:)``, `--threads`), each block's matrix products on one BLAS thread.
///
/// Row-independent computations (a CNF's dynamics on a batch of points) split this way scale
/// with the cores, where OpenBLAS's own threading cannot split a 512 × 64 · 64 × 64 product
/// profitably.
public enum RowParallel {
    /// Overrides the configured thread count for the current task (tests).
    @TaskLocal public static var threadCount: Int?

    /// The row ranges a batch of `rows` splits into: one per configured thread, each at least
    /// `minimumRows` long; a single block when one thread is configured.
    public static func blocks(rows: Int, minimumRows: Int = 64) -> [Range<Int>] {
        let threads = threadCount ?? BLASThreads.configuredCount
        let count = Swift.max(1, Swift.min(threads, rows / Swift.max(minimumRows, 1)))
        guard count > 1 else { return [0..<rows] }
        return (0..<count).map { b in (b * rows / count)..<((b + 1) * rows / count) }
    }

    /// `body` applied to every block, concurrently when there is more than one.
    public static func map<T>(_ blocks: [Range<Int>], _ body: (Range<Int>) -> T) -> [T] {
        if blocks.count == 1 { return [body(blocks[0])] }
        return withoutActuallyEscaping(body) { body in
            let work = UncheckedBox(body)
            let results = UncheckedBox([T?](repeating: nil, count: blocks.count))
            results.value.withUnsafeMutableBufferPointer { slots in
                let output = UncheckedBox(slots)
                BLASThreads.withOneThreadPerProduct {
                    DispatchQueue.concurrentPerform(iterations: blocks.count) { i in
                        output.value[i] = work.value(blocks[i])
                    }
                }
            }
            return results.value.map { $0! }
        }
    }
}

/// Hands a value to worker threads that use it in disjoint ways (each writes its own slot).
private final class UncheckedBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
