import Foundation
import LaminarData
import LaminarNN
import LaminarODE
import LaminarSDE

/// The latent SDE of Li, Wong, Chen & Duvenaud (2020, "Scalable Gradients for Stochastic
/// Differential Equations", §5) on irregular series.
///
/// A GRU reads each series' observations backwards in time (the latent ODE's recognition
/// network, fed `[x ⊙ m, m, t, Δt]`) and gives q(z₀) = N(μ, σ²) and a context vector c. The
/// posterior `dz = f_φ(z, c) dt + g(z) dW` and the prior `dz = h_θ(z) dt + g(z) dW` share the
/// diagonal diffusion g. One posterior sample path per series is solved on a seeded virtual
/// Brownian tree over the union of the batch's times, with the path-space KL ½∫|u|² dt carried
/// in the same solve; a decoder maps z(t) to the observation mean. The loss is the negative ELBO
///
///     −[ Σ log N(xᵢ; dec(z(tᵢ)), σ²) − KL(q(z₀) ‖ N(0, I)) − ½ ∫ |(f_φ − h_θ)/g|² dt ].
///
/// Differences from the paper, stated: the context is one vector per series (the paper feeds
/// the encoder's state at each time), and the drifts are autonomous.
public final class LatentSDE<Scalar: TensorScalar>: SeriesModel {
    /// The model's settings (stored in checkpoints).
    public let configuration: LatentConfiguration
    let gru: GRUCell<Scalar>
    let posterior: Linear<Scalar>
    let dynamics: LatentSDEDynamics<Scalar>
    let decoder: SmallMLP<Scalar>
    /// Posterior sample paths averaged by ``predict(_:at:)``.
    public var predictionSamples = 16

    var contextSize: Int { configuration.latent }

    /// Builds the model with fresh weights from `rng`.
    public init(_ configuration: LatentConfiguration, using rng: inout RandomGenerator) {
        precondition(configuration.kind == .latentSDE, "LatentSDE: configuration of another model")
        self.configuration = configuration
        let c = configuration
        gru = GRUCell(inputSize: 2 * c.features + 2, hiddenSize: c.rnnHidden, using: &rng)
        posterior = Linear(inputSize: c.rnnHidden, outputSize: 3 * c.latent, using: &rng)
        let scheme = SDEScheme.named(c.sdeScheme) ?? .midpoint
        dynamics = LatentSDEDynamics(
            posteriorDrift: SmallMLP([2 * c.latent, c.hidden, c.hidden, c.latent], activation: .tanh, using: &rng),
            priorDrift: SmallMLP([c.latent, c.hidden, c.hidden, c.latent], activation: .tanh, using: &rng),
            diffusionNet: DiagonalDiffusion(latent: c.latent, hidden: 8, using: &rng),
            latent: c.latent, context: c.latent, calculus: scheme.calculus)
        decoder = SmallMLP([c.latent, c.hidden, c.features], activation: .relu, using: &rng)
    }

    /// Encoder, posterior and prior drifts, diffusion and decoder parameters with stable checkpoint names.
    public var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("encoder.gru", gru.namedParameters)
            + prefixed("encoder.posterior", posterior.namedParameters)
            + prefixed("posterior_drift", dynamics.posteriorDrift.namedParameters)
            + prefixed("prior_drift", dynamics.priorDrift.namedParameters)
            + prefixed("diffusion", dynamics.diffusionNet.namedParameters)
            + prefixed("decoder", decoder.namedParameters)
    }

    var scheme: SDEScheme { SDEScheme.named(configuration.sdeScheme) ?? .midpoint }
    var options: SDEOptions { SDEOptions(scheme: scheme, stepSize: configuration.sdeStep ?? 0.05) }
    var gradient: SDEGradientMethod { SDEGradientMethod(rawValue: configuration.sdeGradient) ?? .backprop }

    /// q(z₀ | observations) and the context: mean, log-variance and c, [B, latent] each.
    public func encode(_ batch: SeriesBatch<Scalar>) -> (mean: Variable<Scalar>, logVariance: Variable<Scalar>, context: Variable<Scalar>) {
        let B = batch.count
        var h = Variable(Tensor<Scalar>(zeros: [B, configuration.rnnHidden]))
        func column(_ values: [Double]) -> Variable<Scalar> {
            Variable(Tensor(shape: [B, 1], scalars: values.map { Scalar($0) }))
        }
        for j in (0..<batch.steps).reversed() {
            let t = batch.stepTimes[j]
            let next = j + 1 < batch.steps ? batch.stepTimes[j + 1] : t
            let gaps = zip(next, t).map { $0 - $1 }
            let input = Variable.concatenate(
                [Variable(batch.stepValues[j]), Variable(batch.stepMask[j]), column(t), column(gaps)], axis: 1)
            let updated = gru(input, h)
            h = h + (updated - h) * batch.stepPresent[j]
        }
        let out = posterior(h)
        let L = configuration.latent
        return (out.slice(axis: 1, 0..<L), out.slice(axis: 1, L..<(2 * L)), out.slice(axis: 1, (2 * L)..<(3 * L)))
    }

    /// Posterior sample paths from `z0` ([N, L]) with contexts `context` ([N, C]) over `times`:
    /// z stacked as [K, N, L], the path KL per row at the last time ([N, 1]), and statistics.
    func samplePaths(
        z0: Variable<Scalar>, context: Variable<Scalar>, times: [Double], seed: UInt64
    ) throws -> (z: Variable<Scalar>, kl: Variable<Scalar>, stats: SDEStats) {
        let N = z0.shape[0], L = configuration.latent
        let x0 = Variable.concatenate([z0, Variable(Tensor(zeros: [N, 1])), context], axis: 1)
        let brownian = VirtualBrownianTree(t0: times[0], t1: times[times.count - 1], shape: [N, L + 1 + contextSize], seed: seed)
        let result = try sdeint(dynamics, x0, times: times, brownian: brownian, options: options, gradient: gradient)
        let z = Variable.concatenate(result.states.map { $0.slice(axis: 1, 0..<L).unsqueezed(at: 0) }, axis: 0)
        return (z, result.final.slice(axis: 1, L..<(L + 1)), result.stats)
    }

    /// Decoder applied to every row of a [K, N, latent] trajectory → [K, N, D].
    func decode(_ z: Variable<Scalar>) -> Variable<Scalar> {
        let (K, N) = (z.shape[0], z.shape[1])
        return decoder(z.reshaped([K * N, configuration.latent])).reshaped([K, N, configuration.features])
    }

    /// The negative ELBO of `batch` on one posterior path per series; z₀'s noise and the Brownian tree's seed come from `rng`.
    public func loss(_ batch: SeriesBatch<Scalar>, using rng: inout RandomGenerator) throws -> SeriesLoss<Scalar> {
        guard batch.times.count >= 2 else {
            throw LatentError.invalidConfiguration("every observation of the batch is at time 0; nothing to integrate")
        }
        let q = encode(batch)
        let noise = Tensor<Scalar>.randomNormal([batch.count, configuration.latent], using: &rng)
        let z0 = q.mean + exp(q.logVariance * Scalar(0.5)) * noise
        let path = try samplePaths(z0: z0, context: q.context, times: batch.times, seed: rng.next())
        let B = Double(batch.count)
        let logLikelihood = gaussianLogLikelihood(
            decode(path.z), targets: batch.targets, mask: batch.targetMask, std: configuration.observationStd)
        let kl0 = gaussianKL(mean: q.mean, logVariance: q.logVariance)
        let klPath = path.kl.sum()
        let objective = logLikelihood - kl0 - klPath
        return SeriesLoss(
            loss: objective * Scalar(-1 / B), logLikelihood: Double(logLikelihood.value.scalar) / B,
            kl: Double((kl0 + klPath).value.scalar) / B, poisson: 0, nfe: path.stats.driftEvaluations, backward: [])
    }

    /// Decoded posterior sample paths `[series][sample][query][feature]` at `queries`: each
    /// sample draws z₀ ~ q and its own Brownian path (seeded by `seed`).
    public func samples(_ examples: [SeriesExample], at queries: [[Double]], count: Int, seed: UInt64 = 0) throws -> [[[[Double]]]] {
        try withoutGradient {
            let batch = SeriesBatch<Scalar>(examples)
            let q = encode(batch)
            let B = examples.count, L = configuration.latent, D = configuration.features
            var rng = RandomGenerator(seed: seed)
            let repeated = { (v: Variable<Scalar>) in Variable.concatenate(Array(repeating: v, count: count), axis: 0) }
            let eps = Tensor<Scalar>.randomNormal([count * B, L], using: &rng)
            let z0 = repeated(q.mean) + exp(repeated(q.logVariance) * Scalar(0.5)) * eps
            var union = SeriesBatch<Scalar>.union([[0]] + queries)
            if union.count < 2 { union.append(1) }
            let x = decode(try samplePaths(z0: z0, context: repeated(q.context), times: union, seed: rng.next()).z).value
            return queries.enumerated().map { b, times in
                (0..<count).map { s in
                    times.map { t in
                        let k = SeriesBatch<Scalar>.index(of: t, in: union)
                        return (0..<D).map { Double(x.scalars[(k * count * B + s * B + b) * D + $0]) }
                    }
                }
            }
        }
    }

    /// The mean of ``predictionSamples`` decoded posterior sample paths (fixed seed, so
    /// scores are reproducible).
    public func predict(_ examples: [SeriesExample], at queries: [[Double]]) throws -> [[[Double]]] {
        let paths = try samples(examples, at: queries, count: predictionSamples, seed: 0x5DE)
        return paths.map { series in
            series[0].indices.map { k in
                series[0][k].indices.map { f in series.reduce(0) { $0 + $1[k][f] } / Double(series.count) }
            }
        }
    }
}
