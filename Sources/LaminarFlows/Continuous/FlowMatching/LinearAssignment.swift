/// Minimum-cost perfect matching of a square cost matrix: Jonker–Volgenant's column reduction
/// (each column's cheapest row, matched when free), then one shortest augmenting path per row
/// left unmatched, found by Dijkstra's method over reduced costs with the dual potentials
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
            // Column reduction: v[j] = min_i c[i, j], u = 0 (dual feasible); match the
            // minimising row when it is free (reduced cost 0).
            for j in 0..<n { v[j] = .infinity }
            var best = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let row = c.baseAddress! + i * n
                for j in 0..<n where row[j] < v[j] {
                    v[j] = row[j]
                    best[j] = i
                }
            }
            for j in 0..<n where columnOf[best[j]] < 0 {
                columnOf[best[j]] = j
                rowOf[j] = best[j]
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
}
