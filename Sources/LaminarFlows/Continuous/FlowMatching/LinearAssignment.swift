/// Minimum-cost perfect matching of a square cost matrix: the shortest-augmenting-path form of
/// the Hungarian method with dual potentials (Kuhn 1955; Jonker & Volgenant 1987), started
/// from Jonker–Volgenant's column reduction (each column's cheapest row, matched when free), so
/// that only the rows left unmatched need an augmenting path.
///
/// Used by the minibatch optimal-transport coupling (Tong et al. 2024) on squared distances
/// between noise and data rows.
///
/// - Complexity: O(n³) time in the worst case, O(n) extra memory beyond the n² costs.
public enum LinearAssignment {
    /// `assignment[i]` = the column matched to row `i`, minimising `Σ_i cost[i, assignment[i]]`.
    /// `cost` is row-major n × n and must be finite.
    public static func solve(cost: [Double], n: Int) -> [Int] {
        precondition(cost.count == n * n, "LinearAssignment: \(cost.count) costs for n = \(n)")
        guard n > 0 else { return [] }
        // 1-based rows and columns; column 0 is the virtual start of each augmenting path.
        // Invariants: reduced costs c[i, j] − u[i] − v[j] ≥ 0, zero on matched pairs.
        var u = [Double](repeating: 0, count: n + 1)   // row potentials
        var v = [Double](repeating: 0, count: n + 1)   // column potentials
        var rowOf = [Int](repeating: 0, count: n + 1)  // rowOf[j]: row matched to column j (0: free)
        var columnOf = [Int](repeating: 0, count: n + 1)
        var way = [Int](repeating: 0, count: n + 1)
        var minv = [Double](repeating: 0, count: n + 1)
        var used = [Bool](repeating: false, count: n + 1)
        cost.withUnsafeBufferPointer { c in
        u.withUnsafeMutableBufferPointer { u in
        v.withUnsafeMutableBufferPointer { v in
        rowOf.withUnsafeMutableBufferPointer { rowOf in
        columnOf.withUnsafeMutableBufferPointer { columnOf in
        way.withUnsafeMutableBufferPointer { way in
        minv.withUnsafeMutableBufferPointer { minv in
        used.withUnsafeMutableBufferPointer { used in
            // Column reduction: v[j] = min_i c[i, j]; match the minimising row when it is free.
            for j in 1...n {
                var best = Double.infinity, bestRow = 1
                for i in 1...n where c[(i - 1) * n + j - 1] < best {
                    best = c[(i - 1) * n + j - 1]
                    bestRow = i
                }
                v[j] = best
                if columnOf[bestRow] == 0 {
                    columnOf[bestRow] = j
                    rowOf[j] = bestRow
                }
            }
            for i in 1...n where columnOf[i] == 0 {
                // Dijkstra over reduced costs from the free row i to a free column.
                rowOf[0] = i
                var j0 = 0
                for j in 0...n {
                    minv[j] = .infinity
                    used[j] = false
                }
                repeat {
                    used[j0] = true
                    let i0 = rowOf[j0]
                    var delta = Double.infinity
                    var j1 = 0
                    let row = c.baseAddress! + (i0 - 1) * n - 1
                    let ui0 = u[i0]
                    for j in 1...n where !used[j] {
                        let reduced = row[j] - ui0 - v[j]
                        if reduced < minv[j] {
                            minv[j] = reduced
                            way[j] = j0
                        }
                        if minv[j] < delta {
                            delta = minv[j]
                            j1 = j
                        }
                    }
                    for j in 0...n {
                        if used[j] {
                            u[rowOf[j]] += delta
                            v[j] -= delta
                        } else {
                            minv[j] -= delta
                        }
                    }
                    j0 = j1
                } while rowOf[j0] != 0
                // Augment along the path back to the virtual column.
                repeat {
                    let j1 = way[j0]
                    rowOf[j0] = rowOf[j1]
                    j0 = j1
                } while j0 != 0
                for j in 1...n where rowOf[j] != 0 { columnOf[rowOf[j]] = j }
            }
        }}}}}}}}
        var assignment = [Int](repeating: 0, count: n)
        for j in 1...n where rowOf[j] > 0 { assignment[rowOf[j] - 1] = j - 1 }
        return assignment
    }

    /// Row-major n × n matrix of squared Euclidean distances between the rows of `a` and `b`
    /// (both [n, d]), accumulated in Double.
    public static func squaredDistances<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> [Double] {
        precondition(a.shape == b.shape && a.rank == 2, "squaredDistances: shapes \(a.shape), \(b.shape)")
        let n = a.shape[0], d = a.shape[1]
        var out = [Double](repeating: 0, count: n * n)
        let x = a.scalars.map(Double.init), y = b.scalars.map(Double.init)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                out.withUnsafeMutableBufferPointer { out in
                    for i in 0..<n {
                        for j in 0..<n {
                            var s = 0.0
                            for k in 0..<d {
                                let diff = x[i * d + k] - y[j * d + k]
                                s += diff * diff
                            }
                            out[i * n + j] = s
                        }
                    }
                }
            }
        }
        return out
    }
}
