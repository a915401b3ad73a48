import Foundation
import Testing
@testable import LaminarFlows

/// The exact assignment against brute force, its invariance to reordering the batch, and the
/// Sinkhorn plan's marginals and small-regularization limit.
@Suite struct CouplingTests {
    func permutations(_ n: Int) -> [[Int]] {
        guard n > 1 else { return [Array(0..<n)] }
        return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
    }

    func cost(_ c: [Double], _ n: Int, _ assignment: [Int]) -> Double {
        (0..<n).reduce(0) { $0 + c[$1 * n + assignment[$1]] }
    }

    @Test func assignmentIsOptimalOnRandomInstances() {
        var rng = RandomGenerator(seed: 5)
        for n in 1...7 {
            for _ in 0..<20 {
                let c = (0..<(n * n)).map { _ in rng.uniform() * 10 }
                let a = LinearAssignment.solve(cost: c, n: n)
                #expect(Set(a).count == n)
                let best = permutations(n).map { cost(c, n, $0) }.min()!
                #expect(Swift.abs(cost(c, n, a) - best) < 1e-9, "n = \(n)")
            }
        }
    }

    @Test func assignmentOfSquaredDistancesIsOptimal() {
        var rng = RandomGenerator(seed: 6)
        for n in [3, 6] {
            let x = Tensor<Float>.randomNormal([n, 2], using: &rng)
            let y = Tensor<Float>.randomNormal([n, 2], using: &rng)
            let c = LinearAssignment.squaredDistances(x, y)
            let best = permutations(n).map { cost(c, n, $0) }.min()!
            #expect(Swift.abs(cost(c, n, LinearAssignment.solve(cost: c, n: n)) - best) < 1e-9)
        }
    }

    /// Reordering the data rows reorders the pairs and changes nothing else (the optimum of
    /// continuous random costs is unique almost surely).
    @Test func otCouplingIsInvariantToPermutingTheBatch() {
        var rng = RandomGenerator(seed: 7)
        let n = 64
        let data = Tensor<Float>.randomNormal([n, 3], using: &rng)
        let noise = Tensor<Float>.randomNormal([n, 3], using: &rng)
        var order = Array(0..<n)
        order.shuffle(using: &rng)
        let paired = CouplingKind.ot.pairedNoise(noise: noise, data: data, sinkhornRegularization: 0.05, using: &rng)
        let permuted = CouplingKind.ot.pairedNoise(
            noise: noise.rows(order.reversed()), data: data.rows(order), sinkhornRegularization: 0.05, using: &rng)
        #expect(permuted == paired.rows(order))
        // And it is never worse than the pairing as drawn.
        let c = LinearAssignment.squaredDistances(data, noise)
        #expect(cost(c, n, LinearAssignment.solve(cost: c, n: n)) <= cost(c, n, Array(0..<n)))
    }

    @Test func sinkhornPlanHasUniformMarginals() {
        var rng = RandomGenerator(seed: 8)
        let n = 32
        let c = LinearAssignment.squaredDistances(Tensor<Double>.randomNormal([n, 2], using: &rng),
                                                  Tensor<Double>.randomNormal([n, 2], using: &rng))
        let plan = Sinkhorn.plan(cost: c, n: n, regularization: 0.05)
        for i in 0..<n {
            #expect(Swift.abs(plan[(i * n)..<(i * n + n)].reduce(0, +) - 1 / Double(n)) < 1e-6)
            #expect(Swift.abs(stride(from: i, to: n * n, by: n).reduce(0) { $0 + plan[$1] } - 1 / Double(n)) < 1e-9)
        }
    }

    /// As ε → 0 the entropic plan's cost tends to the exact OT cost (divided by n).
    @Test func sinkhornApproachesTheExactAssignment() {
        var rng = RandomGenerator(seed: 9)
        let n = 16
        let c = LinearAssignment.squaredDistances(Tensor<Double>.randomNormal([n, 2], using: &rng),
                                                  Tensor<Double>.randomNormal([n, 2], using: &rng))
        let exact = cost(c, n, LinearAssignment.solve(cost: c, n: n)) / Double(n)
        var previous = Double.infinity
        for eps in [1.0, 0.1, 0.01, 0.001] {
            let plan = Sinkhorn.plan(cost: c, n: n, regularization: eps, maxIterations: 20_000)
            let value = zip(plan, c).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(value >= exact - 1e-9)
            #expect(value <= previous + 1e-9)
            previous = value
        }
        #expect(previous - exact < 0.01 * exact)
    }
}
