import LaminarData
import LaminarNN
import LaminarODE

/// A two-layer MLP `in → hidden → out` with an activation between (and optionally after the
/// first of two hidden layers).
final class SmallMLP<Scalar: TensorScalar>: Layer {
    let layers: [Linear<Scalar>]
    let activation: Activation

    init(_ sizes: [Int], activation: Activation, using rng: inout RandomGenerator) {
        layers = zip(sizes, sizes.dropFirst()).map { Linear(inputSize: $0, outputSize: $1, using: &rng) }
        self.activation = activation
    }

    var namedParameters: [(String, Variable<Scalar>)] {
        layers.enumerated().flatMap { prefixed("\($0.offset)", $0.element.namedParameters) }
    }

    func callAsFunction(_ x: Variable<Scalar>) -> Variable<Scalar> {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 { h = activation(h) }
        }
        return h
    }
}

/// The latent dynamics `dz/dt = f(z)` (autonomous, as in the paper), and with the Poisson
/// option the accumulated intensity `dΛ/dt = λ(z)` as a second state component.
struct LatentDynamics<Scalar: TensorScalar>: Dynamics {
    let field: SmallMLP<Scalar>
    let intensity: Linear<Scalar>?

    var parameters: [Variable<Scalar>] { field.parameters + (intensity?.parameters ?? []) }

    func callAsFunction(_ t: Variable<Scalar>, _ y: [Variable<Scalar>]) -> [Variable<Scalar>] {
        let dz = field(y[0])
        guard let intensity else { return [dz] }
        return [dz, softplus(intensity(y[0]))]
    }
}

/// `dh/ds = Δ ⊙ g(h)` on s ∈ [0, 1]: the ODE-RNN's hidden-state ODE over one gap, with each
/// series' own gap Δ (a time change that lets a whole batch with different gaps share a solve).
struct ScaledDynamics<Scalar: TensorScalar>: Dynamics {
    let field: SmallMLP<Scalar>
    let scale: Variable<Scalar>

    var parameters: [Variable<Scalar>] { field.parameters }

    func callAsFunction(_ t: Variable<Scalar>, _ y: [Variable<Scalar>]) -> [Variable<Scalar>] {
        [field(y[0]) * scale]
    }
}

/// The latent ODE of Chen et al. (2018, §5): a recognition network reads a series' observations
/// backwards in time and gives q(z₀) = N(μ, σ²); z₀ ~ q is integrated by the shared solver over
/// the union of the batch's observation times; a decoder maps z(t) to the observation mean. The
/// loss is the negative ELBO with a Gaussian observation model and KL to N(0, I).
///
/// The recognition network is a GRU fed `[x ⊙ m, m, t, Δt]` (values, mask, time, gap to the
/// next observation), or for `.odeRNN` an ODE-RNN whose hidden state follows its own ODE
/// between observations (Rubanova et al. 2019). With `poisson`, the observation times are also
/// scored as a Poisson process with intensity λ(z(t)) = softplus(w·z + b): `Σ log λ(tᵢ) − ∫λ`,
/// the integral carried as an extra state of the same solve.
public final class LatentODE<Scalar: TensorScalar>: SeriesModel {
    /// The model's settings (stored in checkpoints).
    public let configuration: LatentConfiguration
    let gru: GRUCell<Scalar>
    let encoderField: SmallMLP<Scalar>?
    let posterior: Linear<Scalar>
    let dynamics: LatentDynamics<Scalar>
    let decoder: SmallMLP<Scalar>

    /// Builds the model with fresh weights from `rng`.
    public init(_ configuration: LatentConfiguration, using rng: inout RandomGenerator) {
        precondition(configuration.kind != .rnn, "LatentODE: use RNNBaseline for the rnn model")
        self.configuration = configuration
        let c = configuration
        let odeEncoder = c.kind == .odeRNN
        gru = GRUCell(inputSize: 2 * c.features + (odeEncoder ? 0 : 2), hiddenSize: c.rnnHidden, using: &rng)
        encoderField = odeEncoder ? SmallMLP([c.rnnHidden, c.hidden, c.rnnHidden], activation: .tanh, using: &rng) : nil
        posterior = Linear(inputSize: c.rnnHidden, outputSize: 2 * c.latent, using: &rng)
        dynamics = LatentDynamics(
            field: SmallMLP([c.latent, c.hidden, c.hidden, c.latent], activation: .elu, using: &rng),
            intensity: c.poisson ? Linear(inputSize: c.latent, outputSize: 1, using: &rng) : nil)
        decoder = SmallMLP([c.latent, c.hidden, c.features], activation: .relu, using: &rng)
    }

    /// Encoder, dynamics, decoder (and Poisson intensity) parameters with stable checkpoint names.
    public var namedParameters: [(String, Variable<Scalar>)] {
        prefixed("encoder.gru", gru.namedParameters)
            + (encoderField.map { prefixed("encoder.ode", $0.namedParameters) } ?? [])
            + prefixed("encoder.posterior", posterior.namedParameters)
            + prefixed("dynamics", dynamics.field.namedParameters)
            + (dynamics.intensity.map { prefixed("intensity", $0.namedParameters) } ?? [])
            + prefixed("decoder", decoder.namedParameters)
    }

    /// The posterior q(z₀ | observations): mean and log-variance, [B, latent] each.
    public func encode(_ batch: SeriesBatch<Scalar>) throws -> (mean: Variable<Scalar>, logVariance: Variable<Scalar>, nfe: Int, backward: [BackwardStats]) {
        let B = batch.count, M = batch.steps
        var h = Variable(Tensor<Scalar>(zeros: [B, configuration.rnnHidden]))
        var nfe = 0
        var backward: [BackwardStats] = []
        func column(_ values: [Double]) -> Variable<Scalar> {
            Variable(Tensor(shape: [B, 1], scalars: values.map { Scalar($0) }))
        }
        func evolve(_ h: Variable<Scalar>, by gaps: [Double]) throws -> Variable<Scalar> {
            guard let field = encoderField, gaps.contains(where: { $0 != 0 }) else { return h }
            let result = try odeint(
                ScaledDynamics(field: field, scale: column(gaps)), [h], times: [0, 1],
                options: configuration.odeOptions, gradient: configuration.gradientMethod)
            nfe += result.stats.nfe
            backward.append(result.backwardStats)
            return result.final[0]
        }
        for j in (0..<M).reversed() {
            let t = batch.stepTimes[j]
            let next = j + 1 < M ? batch.stepTimes[j + 1] : t
            let gaps = zip(next, t).map { $0 - $1 }
            var parts = [Variable(batch.stepValues[j]), Variable(batch.stepMask[j])]
            if encoderField != nil {
                h = try evolve(h, by: gaps.map { -$0 })
            } else {
                parts += [column(t), column(gaps)]
            }
            let updated = gru(Variable.concatenate(parts, axis: 1), h)
            h = h + (updated - h) * batch.stepPresent[j]
        }
        h = try evolve(h, by: batch.stepTimes[0].map { -$0 })
        let out = posterior(h)
        let L = configuration.latent
        return (out.slice(axis: 1, 0..<L), out.slice(axis: 1, L..<(2 * L)), nfe, backward)
    }

    /// Solves the latent trajectory from `z0` over `times` and returns z (and Λ) stacked as
    /// [K, B, ·].
    func trajectory(_ z0: Variable<Scalar>, times: [Double]) throws -> (z: Variable<Scalar>, integral: Variable<Scalar>?, stats: ODEStats, backward: BackwardStats) {
        var y0 = [z0]
        if configuration.poisson { y0.append(Variable(Tensor(zeros: [z0.shape[0], 1]))) }
        let result = try odeint(
            dynamics, y0, times: times, options: configuration.odeOptions, gradient: configuration.gradientMethod)
        let z = Variable.concatenate(result.states.map { $0[0].unsqueezed(at: 0) }, axis: 0)
        let integral = configuration.poisson
            ? Variable.concatenate(result.states.map { $0[1].unsqueezed(at: 0) }, axis: 0) : nil
        return (z, integral, result.stats, result.backwardStats)
    }

    /// Decoder applied to every row of a [K, B, latent] trajectory → [K, B, D].
    func decode(_ z: Variable<Scalar>) -> Variable<Scalar> {
        let (K, B) = (z.shape[0], z.shape[1])
        return decoder(z.reshaped([K * B, configuration.latent])).reshaped([K, B, configuration.features])
    }

    /// The negative ELBO of `batch`, with z₀'s reparameterisation noise drawn from `rng`.
    public func loss(_ batch: SeriesBatch<Scalar>, using rng: inout RandomGenerator) throws -> SeriesLoss<Scalar> {
        // In a data-parallel step: this shard's rows of the global batch's noise.
        let noise: Tensor<Scalar> = BatchShard.perRow([batch.count, configuration.latent]) { .randomNormal($0, using: &rng) }
        return try loss(batch, noise: noise)
    }

    /// The loss with the reparameterisation noise given (z₀ = μ + σ ⊙ ε).
    public func loss(_ batch: SeriesBatch<Scalar>, noise: Tensor<Scalar>) throws -> SeriesLoss<Scalar> {
        guard batch.times.count >= 2 else {
            throw LatentError.invalidConfiguration("every observation of the batch is at time 0; nothing to integrate")
        }
        let posteriorOut = try encode(batch)
        let z0 = posteriorOut.mean + exp(posteriorOut.logVariance * Scalar(0.5)) * noise
        let path = try trajectory(z0, times: batch.times)
        let B = Double(batch.count)
        let logLikelihood = gaussianLogLikelihood(
            decode(path.z), targets: batch.targets, mask: batch.targetMask, std: configuration.observationStd)
        let kl = gaussianKL(mean: posteriorOut.mean, logVariance: posteriorOut.logVariance)
        var objective = logLikelihood - kl
        var poisson = 0.0
        if let integral = path.integral, let intensity = dynamics.intensity {
            let (K, Bn) = (path.z.shape[0], path.z.shape[1])
            let logRate = log(softplus(intensity(path.z.reshaped([K * Bn, configuration.latent])))).reshaped([K, Bn, 1])
            let term = (logRate * batch.events).sum() - (integral * batch.windowEnds).sum()
            poisson = Double(term.value.scalar) / B
            objective = objective + term
        }
        return SeriesLoss(
            loss: objective * Scalar(-1 / B), logLikelihood: Double(logLikelihood.value.scalar) / B,
            kl: Double(kl.value.scalar) / B, poisson: poisson, nfe: posteriorOut.nfe + path.stats.nfe,
            backward: posteriorOut.backward + [path.backward])
    }

    /// Predictions `[series][query][feature]` at `queries`, decoded from the posterior mean of z₀ of each example's observed part.
    public func predict(_ examples: [SeriesExample], at queries: [[Double]]) throws -> [[[Double]]] {
        try withoutGradient {
            let batch = SeriesBatch<Scalar>(examples)
            let mean = try encode(batch).mean
            var union = SeriesBatch<Scalar>.union([[0]] + queries)
            if union.count < 2 { union.append(1) }
            let x = decode(try trajectory(mean, times: union).z).value
            let (B, D) = (examples.count, configuration.features)
            return queries.enumerated().map { b, times in
                times.map { t in
                    let k = SeriesBatch<Scalar>.index(of: t, in: union)
                    return (0..<D).map { Double(x.scalars[(k * B + b) * D + $0]) }
                }
            }
        }
    }
}
