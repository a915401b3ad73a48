import Testing
import LaminarSDE

/// The Brownian motions: reproducible queries, exact additivity, and the moments of a
/// Brownian motion. Moment checks use n = 20 000 independent components, so a tolerance of
/// four standard errors fails by chance with probability below 1e-4 (and the seeds are fixed).
@Suite struct BrownianTests {
    static let n = 20_000

    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
    static func variance(_ x: [Double]) -> Double {
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    /// Mean 0 and variance `expected` within four standard errors.
    static func expectBrownianIncrement(_ x: [Double], variance expected: Double) {
        let se = (expected / Double(x.count)).squareRoot()
        #expect(Swift.abs(mean(x)) < 4 * se, "mean \(mean(x)) (standard error \(se))")
        // The sample variance has standard error ≈ σ²·√(2/n).
        let v = variance(x)
        #expect(Swift.abs(v - expected) < 4 * expected * (2 / Double(x.count)).squareRoot(), "variance \(v), expected \(expected)")
    }

    @Test func treeIncrementsHaveBrownianMoments() {
        let tree = VirtualBrownianTree(t0: 0, t1: 2, shape: [Self.n], seed: 11)
        // Dyadic, non-dyadic and tiny intervals.
        for (s, t) in [(0.0, 2.0), (0.5, 1.25), (0.3, 0.3 + 1.0 / 3), (1.7, 1.7 + 1e-3)] {
            Self.expectBrownianIncrement(tree.increment(from: s, to: t), variance: t - s)
        }
        Self.expectBrownianIncrement(tree.value(at: 0.3), variance: 0.3)
    }

    @Test func disjointTreeIncrementsAreUncorrelated() {
        let tree = VirtualBrownianTree(t0: 0, t1: 1, shape: [Self.n], seed: 12)
        let a = tree.increment(from: 0.1, to: 0.45), b = tree.increment(from: 0.45, to: 0.9)
        let corr = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / Double(Self.n) / (0.35 * 0.45).squareRoot()
        // Standard error of a correlation estimate near 0: 1/√n.
        #expect(Swift.abs(corr) < 4 / Double(Self.n).squareRoot(), "correlation \(corr)")
    }

    @Test func treeQueriesAreReproducibleInAnyOrder() {
        let times = [0.0, 0.013, 0.5, 0.25, 0.9999, 0.7, 1.0, 0.61803]
        let tree = VirtualBrownianTree(t0: 0, t1: 1, shape: [3, 4], seed: 5)
        let first = times.map { tree.value(at: $0) }
        let again = VirtualBrownianTree(t0: 0, t1: 1, shape: [3, 4], seed: 5)
        let reversed = times.reversed().map { again.value(at: $0) }
        #expect(first == Array(reversed.reversed()))
        #expect(first[0] == [Double](repeating: 0, count: 12))
        let other = VirtualBrownianTree(t0: 0, t1: 1, shape: [3, 4], seed: 6)
        #expect(other.value(at: 0.5) != first[2])
    }

    @Test func treeIncrementsAddUpUnderRefinement() {
        let tree = VirtualBrownianTree(t0: -1, t1: 3, shape: [50], seed: 21)
        let whole = tree.increment(from: -0.77, to: 2.9)
        var sum = [Double](repeating: 0, count: 50)
        var s = -0.77
        for k in 1...37 {
            let t = -0.77 + (2.9 + 0.77) * Double(k) / 37
            for (i, d) in tree.increment(from: s, to: t).enumerated() { sum[i] += d }
            s = t
        }
        for i in 0..<50 { #expect(Swift.abs(sum[i] - whole[i]) < 1e-12) }
        // The backward increment is the negated forward one.
        #expect(tree.increment(from: 2.9, to: -0.77) == whole.map { -$0 })
    }

    @Test func treeOverReversedSpanStartsAtZero() {
        let tree = VirtualBrownianTree(t0: 1, t1: 0, shape: [Self.n], seed: 3)
        #expect(tree.value(at: 1) == [Double](repeating: 0, count: Self.n))
        Self.expectBrownianIncrement(tree.value(at: 0), variance: 1)
    }

    @Test func storedPathCachingATreeIsTheSamePath() {
        let tree = VirtualBrownianTree(t0: 0, t1: 1, shape: [7], seed: 9)
        let grid = (0...64).map { Double($0) / 64 }
        let stored = StoredBrownianPath(caching: tree, grid: grid)
        for t in grid { #expect(stored.value(at: t) == tree.value(at: t)) }
        #expect(stored.value(at: 0.3) == tree.value(at: 0.3))
    }

    @Test func freshStoredPathHasBrownianIncrementsAndBridges() {
        let grid = [0, 0.25, 0.5, 1.5, 2]
        let path = StoredBrownianPath(grid: grid, shape: [Self.n], seed: 4)
        Self.expectBrownianIncrement(path.increment(from: 0.5, to: 1.5), variance: 1)
        Self.expectBrownianIncrement(path.value(at: 2), variance: 2)
        // Off the grid: inside a cell the path is a Brownian bridge, so an increment from a grid
        // point to an inner point still has variance equal to its length, and the pieces add up.
        Self.expectBrownianIncrement(path.increment(from: 0.5, to: 0.9), variance: 0.4)
        let pieces = zip(path.increment(from: 0.5, to: 0.9), path.increment(from: 0.9, to: 1.5)).map { $0 + $1 }
        let whole = path.increment(from: 0.5, to: 1.5)
        #expect(zip(pieces, whole).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
        #expect(path.value(at: 0.9) == StoredBrownianPath(grid: grid, shape: [Self.n], seed: 4).value(at: 0.9))
    }
}
