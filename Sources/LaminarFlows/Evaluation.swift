import LaminarAutodiff

/// Likelihood evaluation of trained flows.
public enum Evaluation {
    /// Mean negative log-likelihood (nats) of `points` ([n, d]) with the model's exact
    /// log-density, its standard error over points, and the NFE spent.
    public static func negativeLogLikelihood<F: Flow>(
        _ flow: F, points: Tensor<F.Scalar>, batchSize: Int = 2_000
    ) throws -> (nll: Double, standardError: Double, nfe: Int) {
        let n = points.shape[0]
        var values: [Double] = []
        values.reserveCapacity(n)
        var nfe = 0
        var start = 0
        while start < n {
            let m = Swift.min(batchSize, n - start)
            let batch = points.slice(axis: 0, start..<(start + m))
            let (logp, used) = try withoutGradient { () throws -> (Tensor<F.Scalar>, Int) in
                let out = try flow.forward(Variable(batch))
                return (nanToNegativeInfinity(standardNormalLogDensity(out.value) + out.logDeterminant).value, out.nfe)
            }
            values += logp.scalars.map { -Double($0) }
            nfe += used
            start += m
        }
        let mean = values.reduce(0, +) / Double(n)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(Swift.max(n - 1, 1))
        return (mean, (variance / Double(n)).squareRoot(), nfe)
    }
}
