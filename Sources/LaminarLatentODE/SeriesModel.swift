import Foundation
import LaminarData
import LaminarNN
import LaminarODE

/// The training objective of a time-series model on one batch, with its parts.
public struct SeriesLoss<Scalar: TensorScalar> {
    /// What training minimises: the negative ELBO (or negative log-likelihood for the RNN)
    /// per series.
    public var loss: Variable<Scalar>
    /// Gaussian log-likelihood of the observations per series (the ELBO's expectation term,
    /// one sample of z₀).
    public var logLikelihood: Double
    /// KL(q(z₀ | x) ‖ N(0, I)) per series (0 for the RNN).
    public var kl: Double
    /// Poisson-process log-likelihood of the observation times per series (0 when off).
    public var poisson: Double
    /// Function evaluations of the forward solves.
    public var nfe: Int
    /// Backward statistics of every solve, filled in once gradients are taken.
    public var backward: [BackwardStats]

    /// Backward function evaluations so far.
    public var backwardNFE: Int { backward.reduce(0) { $0 + $1.nfe } }
}

/// A model of irregularly sampled series: a training loss, and predictions at arbitrary times
/// from a series' observations.
public protocol SeriesModel<Scalar>: Layer {
    var configuration: LatentConfiguration { get }
    /// The loss on `batch`; `rng` draws the reparameterisation noise.
    func loss(_ batch: SeriesBatch<Scalar>, using rng: inout RandomGenerator) throws -> SeriesLoss<Scalar>
    /// Predictions `[series][query][feature]` at `queries[series]` (ascending), given each
    /// example's observed part. Latent ODEs decode the posterior mean of z₀.
    func predict(_ examples: [SeriesExample], at queries: [[Double]]) throws -> [[[Double]]]
}

/// `Σ mask ⊙ log N(target; prediction, σ²)` over all entries.
public func gaussianLogLikelihood<S>(
    _ prediction: Variable<S>, targets: Tensor<S>, mask: Tensor<S>, std: Double
) -> Variable<S> {
    let r: Variable<S> = (prediction - targets) * mask
    let observed = mask.scalars.reduce(0.0) { $0 + Double($1) }
    let constant = observed * (0.5 * Foundation.log(2 * Double.pi) + Foundation.log(std))
    let quadratic: Variable<S> = square(r).sum() * S(-0.5 / (std * std))
    return quadratic - S(constant)
}

/// `Σ KL(N(μ, e^{logσ²}) ‖ N(0, 1))` over all entries: `½ Σ (μ² + σ² − 1 − log σ²)`.
public func gaussianKL<S>(mean: Variable<S>, logVariance: Variable<S>) -> Variable<S> {
    let variance: Variable<S> = exp(logVariance)
    let terms: Variable<S> = square(mean) + variance - logVariance
    return (terms - S(1)).sum() * S(0.5)
}

/// Builds the model a configuration describes.
public func makeSeriesModel(_ configuration: LatentConfiguration, seed: UInt64) throws -> any SeriesModel<Float> {
    try configuration.validate()
    var rng = RandomGenerator(seed: seed)
    switch configuration.kind {
    case .latentODE, .odeRNN: return LatentODE<Float>(configuration, using: &rng)
    case .rnn: return RNNBaseline<Float>(configuration, using: &rng)
    case .latentSDE: return LatentSDE<Float>(configuration, using: &rng)
    }
}
