import Testing
@testable import LaminarFlows

/// The lazy-dual shortest-augmenting-path assignment against brute force (small n, with ties)
/// and against an independent O(n³) Hungarian method (batches up to 1,024), and the product
/// form of the squared distances against the direct sum.
@Suite struct LinearAssignmentTests {
    func cost(_ c: [Double], _ n: Int, _ assignment: [Int]) -> Double {
        (0..<n).reduce(0) { $0 + c[$1 * n + assignment[$1]] }
    }

    func permutations(_ n: Int) -> [[Int]] {
        guard n > 1 else { return [Array(0..<n)] }
        return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
    }

    /// The textbook Hungarian method with potentials (Kuhn 1955), every dual updated at every
    /// step: slow, simple, and independent of the solver under test.
    func referenceAssignment(_ c: [Double], _ n: Int) -> [Int] {
        var u = [Double](repeating: 0, count: n + 1), v = u
        var rowOf = [Int](repeating: 0, count: n + 1), way = rowOf
        for i in 1...n {
            rowOf[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = rowOf[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...n where !used[j] {
                    let reduced = c[(i0 - 1) * n + j - 1] - u[i0] - v[j]
                    if reduced < minv[j] { minv[j] = reduced; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...n {
                    if used[j] { u[rowOf[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while rowOf[j0] != 0
            repeat { let j1 = way[j0]; rowOf[j0] = rowOf[j1]; j0 = j1 } while j0 != 0
        }
        var assignment = [Int](repeating: 0, count: n)
        for j in 1...n { assignment[rowOf[j] - 1] = j - 1 }
        return assignment
    }

    /// Small integer costs have many optimal assignments (ties in every Dijkstra step): the
    /// result must still be a permutation of optimal cost.
    @Test func optimalWithTiedIntegerCosts() {
        var rng = RandomGenerator(seed: 11)
        for n in 1...7 {
            let all = permutations(n)
            for _ in 0..<30 {
                let c = (0..<(n * n)).map { _ in Double(Int(rng.uniform() * 3)) }
                let a = LinearAssignment.solve(cost: c, n: n)
                #expect(Set(a) == Set(0..<n))
                #expect(cost(c, n, a) == all.map { cost(c, n, $0) }.min()!, "n = \(n), costs \(c)")
            }
        }
    }

    /// Random batches of 2-D points and uniform costs: the same optimal cost as the reference
    /// (to 1e-9 relative: the two sum the same numbers in different orders).
    @Test func matchesTheReferenceHungarianMethodUpTo1024() {
        var rng = RandomGenerator(seed: 12)
        for n in [2, 17, 128, 333, 1_024] {
            let c = LinearAssignment.squaredDistances(
                Tensor<Float>.randomNormal([n, 2], using: &rng), Tensor<Float>.randomNormal([n, 2], using: &rng))
            let a = LinearAssignment.solve(cost: c, n: n)
            #expect(Set(a) == Set(0..<n))
            let expected = cost(c, n, referenceAssignment(c, n))
            #expect(Swift.abs(cost(c, n, a) - expected) <= 1e-9 * expected, "n = \(n)")
        }
        for n in [50, 200] {
            let c = (0..<(n * n)).map { _ in rng.uniform() }
            let expected = cost(c, n, referenceAssignment(c, n))
            #expect(Swift.abs(cost(c, n, LinearAssignment.solve(cost: c, n: n)) - expected) <= 1e-9 * expected)
        }
    }

    /// ‖a‖² + ‖b‖² − 2abᵀ through one product equals the direct sum to 1e-12 relative to the
    /// squared norms (its cancellation bound), at the image width d = 784.
    @Test func productDistancesMatchTheDirectSum() {
        var rng = RandomGenerator(seed: 13)
        let n = 40, d = 784
        let a = Tensor<Float>.randomNormal([n, d], using: &rng), b = Tensor<Float>.randomNormal([n, d], using: &rng)
        let fast = LinearAssignment.squaredDistances(a, b)
        let x = a.scalars.map(Double.init), y = b.scalars.map(Double.init)
        for i in 0..<n {
            for j in 0..<n {
                var direct = 0.0, scale = 0.0
                for k in 0..<d {
                    direct += (x[i * d + k] - y[j * d + k]) * (x[i * d + k] - y[j * d + k])
                    scale += x[i * d + k] * x[i * d + k] + y[j * d + k] * y[j * d + k]
                }
                #expect(Swift.abs(fast[i * n + j] - direct) <= 1e-12 * scale)
            }
        }
        // Identical rows are at distance 0 (never negative after cancellation).
        #expect(LinearAssignment.squaredDistances(a, a).enumerated().allSatisfy { $0.element >= 0 })
    }
}
