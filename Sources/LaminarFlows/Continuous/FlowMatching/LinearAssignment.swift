/// Minimum-cost perfect matching of a square cost matrix: Jonker–Volgenant's initialisation
/// (column reduction, reduction transfer, two rounds of augmenting row reduction), then one
/// shortest augmenting path per row left unmatched, found by Dijkstra's method over reduced costs with the dual potentials
/// updated lazily once per path (Jonker & Volgenant 1987; the formulation of Crouse 2016,
/// "On implementing 2D rectangular assignment algorithms", doi:10.1109/TAES.2016.140952).
///
/// Each step of a path search scans only the columns not yet settled and settles one; ties go
/// to a free column, which ends the search. The result is an exact optimum: the potentials
/// `u`, `v` stay dual feasible (`c[i, j] ≥ u[i] + v[j]`) with equality on matched pairs.
///
/// Used by the minibatch optimal-transport coupling (Tong et al. 2024) on squared distances
/// between noise and data rows.
///
/// - Complexity: O(n³) time in the worst case (far less on random costs), O(n) extra memory
///   beyond the n² costs.
public enum LinearAssignment {
    /// `assignment[i]` = the column matched to row `i`, minimising `Σ_i cost[i, assignment[i]]`.
    /// `cost` is row-major n × n and must be finite.
    public static func solve(cost: [Double], n: Int) -> [Int] {
        precondition(cost.count == n * n, "LinearAssignment: \(cost.count) costs for n = \(n)")
        guard n > 0 else { return [] }
        var u = [Double](repeating: 0, count: n)        // row potentials
        var v = [Double](repeating: 0, count: n)        // column potentials
        var rowOf = [Int](repeating: -1, count: n)      // rowOf[j]: row matched to column j (−1: free)
        var columnOf = [Int](repeating: -1, count: n)   // columnOf[i]: column matched to row i
        var path = [Int](repeating: -1, count: n)       // path[j]: the row preceding column j
        var distance = [Double](repeating: 0, count: n) // shortest reduced path length to column j
        var remaining = [Int](repeating: 0, count: n)   // columns not yet settled, first `open` entries
        var reachedRows = [Int](repeating: 0, count: n)
        var settledColumns = [Int](repeating: 0, count: n)
        cost.withUnsafeBufferPointer { c in
        u.withUnsafeMutableBufferPointer { u in
        v.withUnsafeMutableBufferPointer { v in
        rowOf.withUnsafeMutableBufferPointer { rowOf in
        columnOf.withUnsafeMutableBufferPointer { columnOf in
        path.withUnsafeMutableBufferPointer { path in
        distance.withUnsafeMutableBufferPointer { distance in
        remaining.withUnsafeMutableBufferPointer { remaining in
        reachedRows.withUnsafeMutableBufferPointer { reachedRows in
        settledColumns.withUnsafeMutableBufferPointer { settledColumns in
            // Column reduction: v[j] = min_i c[i, j]; match the minimising row when it is free.
            for j in 0..<n { v[j] = .infinity }
            var best = [Int](repeating: 0, count: n), matches = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let row = c.baseAddress! + i * n
                for j in 0..<n where row[j] < v[j] {
                    v[j] = row[j]
                    best[j] = i
                }
            }
            for j in 0..<n {
                matches[best[j]] += 1
                if columnOf[best[j]] < 0 {
                    columnOf[best[j]] = j
                    rowOf[j] = best[j]
                }
            }
            // Reduction transfer: a row that is the minimum of one column only keeps that
            // column as its row minimum with the other columns' slack moved into v.
            for i in 0..<n where matches[i] == 1 {
                let j1 = columnOf[i], row = c.baseAddress! + i * n
                var slack = Double.infinity
                for j in 0..<n where j != j1 { slack = Swift.min(slack, row[j] - v[j]) }
                if slack.isFinite { v[j1] -= slack }
            }
            augmentingRowReduction(c.baseAddress!, n, v: v.baseAddress!, rowOf: rowOf.baseAddress!,
                                   columnOf: columnOf.baseAddress!)
            // Row potentials u[i] = min_j (c[i, j] − v[j]): dual feasible, and tight on every
            // matched pair (each matched column is its row's minimum).
            for i in 0..<n {
                let row = c.baseAddress! + i * n
                var smallest = Double.infinity
                for j in 0..<n { smallest = Swift.min(smallest, row[j] - v[j]) }
                u[i] = smallest
            }
            for start in 0..<n where columnOf[start] < 0 {
                // Dijkstra from the free row `start` until a free column is settled.
                var open = n
                for k in 0..<n {
                    remaining[k] = n - 1 - k
                    distance[k] = .infinity
                }
                var reached = 0, settled = 0
                var shortest = 0.0
                var i = start
                var sink = -1
                while sink < 0 {
                    reachedRows[reached] = i
                    reached += 1
                    let row = c.baseAddress! + i * n
                    let base = shortest - u[i]
                    var lowest = Double.infinity
                    var index = 0
                    for k in 0..<open {
                        let j = remaining[k]
                        let r = base + row[j] - v[j]
                        if r < distance[j] {
                            path[j] = i
                            distance[j] = r
                        }
                        let dj = distance[j]
                        if dj < lowest || (dj == lowest && rowOf[j] < 0) {
                            lowest = dj
                            index = k
                        }
                    }
                    shortest = lowest
                    let j = remaining[index]
                    settledColumns[settled] = j
                    settled += 1
                    open -= 1
                    remaining[index] = remaining[open]
                    if rowOf[j] < 0 { sink = j } else { i = rowOf[j] }
                }
                // Lazy dual update over the rows reached and the columns settled only.
                u[start] += shortest
                for k in 1..<reached {
                    let r = reachedRows[k]
                    u[r] += shortest - distance[columnOf[r]]
                }
                for k in 0..<settled {
                    let j = settledColumns[k]
                    v[j] -= shortest - distance[j]
                }
                // Augment along the path back to `start`.
                var j = sink
                while true {
                    let r = path[j]
                    rowOf[j] = r
                    let previous = columnOf[r]
                    columnOf[r] = j
                    if r == start { break }
                    j = previous
                }
            }
        }}}}}}}}}}
        return columnOf
    }

    /// Jonker & Volgenant's augmenting row reduction, two rounds: each free row takes the
    /// column of its smallest reduced cost `c[i, j] − v[j]`, lowering that column's `v` to the
    /// row's second smallest (so the column stays the row's minimum) and freeing the row that held
    /// it, which continues at once when `v` moved. Keeps every matched column its row's minimum
    /// (the invariant the row potentials are derived from). Float ties can make the chain of
    /// displaced rows long, so it stops after 8·n reassignments per round and leaves the rest to
    /// the shortest-path phase.
    private static func augmentingRowReduction(
        _ c: UnsafePointer<Double>, _ n: Int, v: UnsafeMutablePointer<Double>,
        rowOf: UnsafeMutablePointer<Int>, columnOf: UnsafeMutablePointer<Int>
    ) {
        guard n > 1 else { return }
        for _ in 0..<2 {
            var free = (0..<n).filter { columnOf[$0] < 0 }
            if free.isEmpty { return }
            var k = 0, budget = 8 * n
            while k < free.count && budget > 0 {
                budget -= 1
                let i = free[k]
                k += 1
                let row = c + i * n
                var first = row[0] - v[0], second = Double.infinity
                var j1 = 0, j2 = 0
                for j in 1..<n {
                    let h = row[j] - v[j]
                    if h < second {
                        if h >= first {
                            second = h
                            j2 = j
                        } else {
                            second = first
                            first = h
                            j2 = j1
                            j1 = j
                        }
                    }
                }
                var i0 = rowOf[j1]
                let lowered = first < second
                if lowered {
                    v[j1] -= second - first
                } else if i0 >= 0 {
                    // Equal minimum and second minimum: take the second column, which may be free.
                    j1 = j2
                    i0 = rowOf[j2]
                }
                columnOf[i] = j1
                rowOf[j1] = i
                if i0 >= 0 {
                    columnOf[i0] = -1
                    // Continue with the displaced row while its column's v moved; otherwise it
                    // waits for the next round (or the shortest-path phase).
                    if lowered {
                        k -= 1
                        free[k] = i0
                    }
                }
            }
        }
    }
}
