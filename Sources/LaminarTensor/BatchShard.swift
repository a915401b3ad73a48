/// The rows of a global batch that one rank of a data-parallel job computes: a contiguous
/// block, the blocks of ranks `0..<size` in order covering `0..<globalCount`, sizes differing
/// by at most one.
///
/// Data-parallel training draws the whole global batch on every rank and keeps the shard's
/// rows, so that N ranks see exactly the points one process would. Per-row noise drawn
/// inside a model (Hutchinson probes, reparameterisation noise) goes through
/// ``perRow(_:_:)``, which does the same for random numbers while ``current`` is set.
public struct BatchShard: Sendable, Equatable, CustomStringConvertible {
    /// This rank's rows of the global batch.
    public let rows: Range<Int>
    /// Rows of the global batch.
    public let globalCount: Int

    /// Rank `rank`'s block of a global batch of `globalCount` rows split over `size` ranks.
    public init(rank: Int, of size: Int, globalCount: Int) {
        precondition(size >= 1 && (0..<size).contains(rank) && globalCount >= 0,
                     "BatchShard: rank \(rank) of \(size), \(globalCount) rows")
        let base = globalCount / size, extra = globalCount % size
        let start = rank * base + Swift.min(rank, extra)
        rows = start..<(start + base + (rank < extra ? 1 : 0))
        self.globalCount = globalCount
    }

    /// The whole batch (one process).
    public init(globalCount: Int) { self.init(rank: 0, of: 1, globalCount: globalCount) }

    /// Rows this rank holds.
    public var count: Int { rows.count }

    /// This rank's share of the global batch, `count / globalCount`: the weight of its
    /// batch-mean loss (and gradient) in the global mean.
    public var fraction: Double { globalCount == 0 ? 0 : Double(count) / Double(globalCount) }

    /// E.g. `rows 0..<128 of 256`.
    public var description: String { "rows \(rows.lowerBound)..<\(rows.upperBound) of \(globalCount)" }

    /// The shard's rows of `t`, whose first axis is the global batch.
    public func rows<S>(of t: Tensor<S>) -> Tensor<S> {
        precondition(t.rank >= 1 && t.shape[0] == globalCount,
                     "BatchShard: tensor \(t.shape) is not a batch of \(globalCount) rows")
        if count == globalCount { return t }
        let width = t.count / Swift.max(1, globalCount)
        var shape = t.shape
        shape[0] = count
        return t.withUnsafeBufferPointer { src in
            Tensor(shape: shape) { dst in
                for k in 0..<(count * width) { dst[k] = src[rows.lowerBound * width + k] }
            }
        }
    }

    /// The shard of the data-parallel step running on this thread, set by the trainers around
    /// a model's loss; nil outside one (and in single-process runs).
    @TaskLocal public static var current: BatchShard?

    /// Per-row random values of `shape` (`[rows, …]`) as the global batch would get them: inside
    /// a step whose ``current`` shard has `shape[0]` rows, `draw` makes the global batch's
    /// `[globalCount, …]` values (consuming the generator exactly as one process would) and
    /// the shard's rows are kept; otherwise it is `draw(shape)`.
    public static func perRow<S>(_ shape: [Int], _ draw: ([Int]) -> Tensor<S>) -> Tensor<S> {
        guard let shard = current, !shape.isEmpty, shape[0] == shard.count, shard.count != shard.globalCount else {
            return draw(shape)
        }
        var global = shape
        global[0] = shard.globalCount
        return shard.rows(of: draw(global))
    }
}
