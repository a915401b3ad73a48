/// A Brownian motion stored on a grid of times: a query on the grid is one look-up, the
/// fastest choice for fixed-step solves whose steps land on the grid.
///
/// Two ways to make one:
/// - ``init(grid:shape:seed:)`` samples a fresh path: independent Gaussian increments between
///   grid points. Between two grid points the path is a Brownian bridge built by a virtual
///   tree keyed by (seed, cell), so off-grid queries are still exact in distribution and
///   consistent with each other.
/// - ``init(caching:grid:)`` stores another Brownian motion's values on the grid (e.g. a
///   ``VirtualBrownianTree``): the same path, with off-grid queries passed to it.
///
/// - Complexity: memory O(grid.count · count); a query O(log grid.count) on the grid.
public final class StoredBrownianPath: BrownianMotion {
    /// Shape of `W(t)` (one independent Brownian motion per element).
    public let shape: [Int]
    /// Start of the span; `W(t0) = 0`.
    public let t0: Double
    /// End of the span.
    public let t1: Double
    /// Ascending grid times.
    public let grid: [Double]
    /// `values[k · count + i]`: component i of W(grid[k]) − W(t0).
    private let values: [Double]
    private let base: (any BrownianMotion)?
    private let seed: UInt64
    private var cell: (index: Int, cursor: BridgeCursor)?

    /// A fresh path on `grid` (strictly monotone, ≥ 2 times; `W(grid[0]) = 0`).
    public init(grid: [Double], shape: [Int], seed: UInt64) {
        precondition(grid.count >= 2, "StoredBrownianPath: the grid needs at least two times")
        let sorted = grid.first! < grid.last! ? grid : grid.reversed()
        self.grid = sorted
        self.shape = shape
        self.seed = seed
        t0 = grid.first!
        t1 = grid.last!
        base = nil
        let n = shape.reduce(1, *)
        var values = [Double](repeating: 0, count: sorted.count * n)
        let normals = CounterNormal(seed: seed ^ 0x5354_4F52_4544)
        var z = [Double](repeating: 0, count: n)
        for k in 1..<sorted.count {
            z.withUnsafeMutableBufferPointer { normals.fill(key: normals.key(depth: 62, index: UInt64(k)), $0.baseAddress!, count: n) }
            let scale = (sorted[k] - sorted[k - 1]).squareRoot()
            for i in 0..<n { values[k * n + i] = values[(k - 1) * n + i] + scale * z[i] }
        }
        if sorted[0] != t0 {
            // Reference point W(t0) = 0 at the later end.
            let last = (sorted.count - 1) * n
            let end = Array(values[last..<(last + n)])
            for k in 0..<sorted.count { for i in 0..<n { values[k * n + i] -= end[i] } }
        }
        self.values = values
    }

    /// `motion`'s values on `grid` (inside its span), stored.
    public init(caching motion: any BrownianMotion, grid: [Double]) {
        precondition(grid.count >= 2, "StoredBrownianPath: the grid needs at least two times")
        let sorted = grid.first! < grid.last! ? grid : grid.reversed()
        self.grid = sorted
        shape = motion.shape
        t0 = motion.t0
        t1 = motion.t1
        base = motion
        seed = 0
        values = sorted.flatMap { motion.value(at: $0) }
    }

    /// `W(t) − W(t0)` (row-major, `shape`): a look-up on the grid, a Brownian bridge between grid points.
    public func value(at t: Double) -> [Double] {
        let n = count
        // Binary search for the cell [grid[k], grid[k+1]] holding t.
        let tc = Swift.min(Swift.max(t, grid[0]), grid[grid.count - 1])
        var lo = 0, hi = grid.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if grid[mid] <= tc { lo = mid } else { hi = mid }
        }
        if grid[lo] == tc { return Array(values[(lo * n)..<(lo * n + n)]) }
        if grid[hi] == tc { return Array(values[(hi * n)..<(hi * n + n)]) }
        if let base { return base.value(at: tc) }
        if cell?.index != lo {
            cell = (lo, BridgeCursor(
                a: grid[lo], b: grid[hi], wa: Array(values[(lo * n)..<(lo * n + n)]),
                wb: Array(values[(hi * n)..<(hi * n + n)]), tolerance: (grid[hi] - grid[lo]) * 0x1p-20,
                seed: CounterNormal.mix(seed &+ UInt64(lo))))
        }
        var out = [Double](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { cell!.cursor.value(at: tc, into: $0.baseAddress!) }
        return out
    }
}
