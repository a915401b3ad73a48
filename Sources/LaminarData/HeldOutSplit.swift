import LaminarTensor

/// A seeded train/test split of the rows of a user's points file: the same file, fraction and
/// seed always give the same split, so `laminar evaluate` can score the rows training never saw.
public struct HeldOutSplit: Sendable, Equatable {
    /// Fraction of the rows held out for testing, in [0, 1).
    public let testFraction: Double
    /// Seed of the row permutation.
    public let seed: UInt64

    /// Holds out about `testFraction` of the rows (see ``testCount(of:)``), chosen by a permutation
    /// seeded with `seed`; the fraction is not checked here (`laminar train` requires [0, 1)).
    public init(testFraction: Double, seed: UInt64) {
        self.testFraction = testFraction
        self.seed = seed
    }

    /// Number of held-out rows of `n` (at least one when the fraction is positive and n ≥ 2,
    /// always at least one training row).
    public func testCount(of n: Int) -> Int {
        guard testFraction > 0, n >= 2 else { return 0 }
        return Swift.min(n - 1, Swift.max(1, Int((Double(n) * testFraction).rounded())))
    }

    /// The rows of `points` (`[n, d]`) split into training and held-out rows, each in file order.
    public func split<S: TensorScalar>(_ points: Tensor<S>) -> (train: Tensor<S>, test: Tensor<S>) {
        let n = points.shape[0], d = points.shape[1]
        let k = testCount(of: n)
        var order = Array(0..<n)
        var rng = RandomGenerator(seed: seed ^ 0x5EED_7E57)
        order.shuffle(using: &rng)
        let held = Set(order.prefix(k))
        let v = points.scalars
        func rows(_ keep: (Int) -> Bool) -> Tensor<S> {
            let chosen = (0..<n).filter(keep)
            var out = [S]()
            out.reserveCapacity(chosen.count * d)
            for i in chosen { out.append(contentsOf: v[(i * d)..<((i + 1) * d)]) }
            return Tensor(shape: [chosen.count, d], scalars: out)
        }
        return (rows { !held.contains($0) }, rows { held.contains($0) })
    }
}
