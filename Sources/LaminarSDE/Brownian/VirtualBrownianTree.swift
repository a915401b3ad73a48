/// A Brownian motion that stores no path: `W(t)` for any `t` is rebuilt from a seed by Lévy's
/// midpoint construction down a virtual binary tree, to a leaf of width `tolerance`
/// (the Brownian tree of Li, Wong, Chen & Duvenaud 2020, "Scalable Gradients for Stochastic
/// Differential Equations", §4; diffrax's `VirtualBrownianTree`).
///
/// Each node's random numbers come from a counter-based generator keyed by (seed, depth,
/// index), so any query is reproducible from the seed alone, in any order.
///
/// - Complexity: a query costs O(log₂((t1 − t0)/tolerance)) node evaluations of `count`
///   normals each, and less for a query near the previous one (the descent restarts from the
///   deepest common node). Memory: O(count · log₂((t1 − t0)/tolerance)), independent of the
///   number of queries or solver steps.
public final class VirtualBrownianTree: BrownianMotion {
    /// Shape of `W(t)` (one independent Brownian motion per element).
    public let shape: [Int]
    /// Start of the span; `W(t0) = 0`.
    public let t0: Double
    /// End of the span.
    public let t1: Double
    /// The seed that determines the whole path.
    public let seed: UInt64
    /// Leaf width: the path is exact (in distribution) at dyadic points of `[t0, t1]` down to
    /// this resolution and linearly interpolated below it.
    public let tolerance: Double
    private let cursor: BridgeCursor
    private var buffer: [Double]

    /// - Parameters:
    ///   - t0, t1: the span (either order; the tree is built on the sorted interval, and
    ///     `W(t0) = 0` is the reference point).
    ///   - shape: shape of W(t), e.g. `[batch, noise]`.
    ///   - tolerance: leaf width; by default `|t1 − t0| · 2⁻²⁰`.
    public init(t0: Double, t1: Double, shape: [Int], seed: UInt64, tolerance: Double? = nil) {
        precondition(t0.isFinite && t1.isFinite && t0 != t1, "VirtualBrownianTree: t0 and t1 must be finite and differ")
        self.shape = shape
        self.t0 = t0
        self.t1 = t1
        self.seed = seed
        let a = Swift.min(t0, t1), b = Swift.max(t0, t1)
        let tol = tolerance ?? (b - a) * 0x1p-20
        self.tolerance = tol
        let n = shape.reduce(1, *)
        var root = [Double](repeating: 0, count: n)
        let normals = CounterNormal(seed: seed)
        root.withUnsafeMutableBufferPointer { normals.fill(key: ~normals.key(depth: 0, index: 0), $0.baseAddress!, count: n) }
        let wb = root.map { $0 * (b - a).squareRoot() }
        // W is built as a path from W(a) = 0; values are reported relative to W(t0).
        cursor = BridgeCursor(a: a, b: b, wa: [Double](repeating: 0, count: n), wb: wb, tolerance: tol, seed: seed)
        buffer = [Double](repeating: 0, count: n)
        if t0 > t1 { offset = wb } else { offset = nil }
    }

    /// `W(t0)` of the sorted construction when t0 is the later end (nil otherwise).
    private let offset: [Double]?

    /// `W(t) − W(t0)` (row-major, `shape`), rebuilt from the seed down the tree.
    public func value(at t: Double) -> [Double] {
        buffer.withUnsafeMutableBufferPointer { cursor.value(at: t, into: $0.baseAddress!) }
        guard let offset else { return buffer }
        return zip(buffer, offset).map { $0 - $1 }
    }
}
