import LaminarData

/// Where training batches come from. Batches depend only on the run's seed and the iteration
/// number, so a resumed run sees exactly the batches an uninterrupted run would.
public enum BatchSource<Scalar: TensorScalar> {
    /// Fresh samples of a toy distribution every iteration (FFJORD's toy training).
    case toy(ToyDataset)
    /// Minibatches of a fixed point set ([N, d]), reshuffled each epoch.
    case points(Tensor<Scalar>)

    /// Dimension of one point.
    public var dimension: Int {
        switch self {
        case .toy: return 2
        case .points(let t): return t.shape[1]
        }
    }

    /// The batch of `iteration` (1-based).
    public func batch(iteration: Int, size: Int, seed: UInt64) -> Tensor<Scalar> {
        switch self {
        case .toy(let set):
            var rng = RandomGenerator(seed: mix(seed, UInt64(iteration), 0x70)
            )
            return set.sample(size, using: &rng)
        case .points(let data):
            let n = data.shape[0], d = data.shape[1]
            let perEpoch = Swift.max(1, n / Swift.min(size, n))
            let epoch = (iteration - 1) / perEpoch
            let index = (iteration - 1) % perEpoch
            var order = Array(0..<n)
            var rng = RandomGenerator(seed: mix(seed, UInt64(epoch), 0xE9))
            order.shuffle(using: &rng)
            let m = Swift.min(size, n)
            let rows = order[(index * m)..<(index * m + m)]
            return data.withUnsafeBufferPointer { src in
                Tensor(shape: [m, d]) { dst in
                    for (i, r) in rows.enumerated() {
                        for j in 0..<d { dst[i * d + j] = src[r * d + j] }
                    }
                }
            }
        }
    }
}

/// Combines a seed with counters into a new seed (SplitMix64 finaliser).
func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
    var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1) &+ c &* 0xD1B5_4A32_D192_ED03
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
