import LaminarData
import LaminarNN

/// The evidence lower bound of a latent model on `examples`, in nats per series: the mean of
/// `−loss` over batches of `batchSize`, each with its own fixed-seed noise (one posterior
/// sample of z₀, and for a latent SDE one Brownian path, per series). For an ELBO-trained
/// model this is a lower bound on the log-likelihood of the observed values.
public func evidenceLowerBound(
    _ model: any SeriesModel<Float>, on examples: [SeriesExample], batchSize: Int = 100, seed: UInt64 = 0xE1B0
) throws -> (mean: Double, samples: Int) {
    var total = 0.0
    var begin = 0
    var rng = RandomGenerator(seed: seed)
    while begin < examples.count {
        let part = Array(examples[begin..<min(examples.count, begin + max(1, batchSize))])
        let loss = try withoutGradient { try model.loss(SeriesBatch<Float>(part), using: &rng).loss.value.scalar }
        total += -Double(loss) * Double(part.count)
        begin += part.count
    }
    return (total / Double(max(1, examples.count)), examples.count)
}
