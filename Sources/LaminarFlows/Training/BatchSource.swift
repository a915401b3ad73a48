import LaminarData

/// Where training batches come from. Batches depend only on the run's seed and the iteration
/// number, so a resumed run sees exactly the batches an uninterrupted run would.
public enum BatchSource<Scalar: TensorScalar> {
    /// Fresh samples of a toy distribution every iteration (FFJORD's toy training).
    case toy(ToyDataset)
    /// Minibatches of a fixed point set ([N, d]), reshuffled each epoch.
    case points(Tensor<Scalar>)
    /// Minibatches of 8-bit images, reshuffled each epoch and freshly dequantized (and
    /// logit-transformed) every iteration; rows are flattened images.
    case images(ImageDataset, ImagePreprocessing)

    /// Dimension of one point.
    public var dimension: Int {
        switch self {
        case .toy: return 2
        case .points(let t): return t.shape[1]
        case .images(let data, _): return data.pixelsPerImage
        }
    }

    /// The batch of `iteration` (1-based).
    public func batch(iteration: Int, size: Int, seed: UInt64) -> Tensor<Scalar> {
        batchWithLogDeterminant(iteration: iteration, size: size, seed: seed).batch
    }

    /// The batch of `iteration` and the mean log-determinant of the preprocessing that made it
    /// (images: dequantization and logit, so that bits/dim can be reported; 0 otherwise).
    public func batchWithLogDeterminant(iteration: Int, size: Int, seed: UInt64) -> (batch: Tensor<Scalar>, logDeterminant: Double) {
        switch self {
        case .toy(let set):
            var rng = RandomGenerator(seed: mix(seed, UInt64(iteration), 0x70))
            return (set.sample(size, using: &rng), 0)
        case .images(let data, let preprocessing):
            let rows = Self.epochRows(count: data.count, size: size, iteration: iteration, seed: seed)
            var rng = RandomGenerator(seed: mix(seed, UInt64(iteration), 0xD7))
            let (y, logDet): (Tensor<Scalar>, Tensor<Scalar>) = preprocessing.transform(data, indices: rows, using: &rng)
            return (y, logDet.scalars.reduce(0) { $0 + Double($1) } / Double(rows.count))
        case .points(let data):
            let d = data.shape[1]
            let rows = Self.epochRows(count: data.shape[0], size: size, iteration: iteration, seed: seed)
            let m = rows.count
            return (data.withUnsafeBufferPointer { src in
                Tensor(shape: [m, d]) { dst in
                    for (i, r) in rows.enumerated() {
                        for j in 0..<d { dst[i * d + j] = src[r * d + j] }
                    }
                }
            }, 0)
        }
    }

    /// Row indices of `iteration`'s batch: a seeded permutation per epoch, cut into batches.
    static func epochRows(count n: Int, size: Int, iteration: Int, seed: UInt64) -> [Int] {
        let m = Swift.min(size, n)
        let perEpoch = Swift.max(1, n / m)
        let epoch = (iteration - 1) / perEpoch
        let index = (iteration - 1) % perEpoch
        var order = Array(0..<n)
        var rng = RandomGenerator(seed: mix(seed, UInt64(epoch), 0xE9))
        order.shuffle(using: &rng)
        return Array(order[(index * m)..<(index * m + m)])
    }
}

/// Combines a seed with counters into a new seed (SplitMix64 finaliser).
func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
    var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1) &+ c &* 0xD1B5_4A32_D192_ED03
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
