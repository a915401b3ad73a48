import Foundation
import LaminarAutodiff
import LaminarNN

/// Settings of a ``RealNVP`` flow; stored in checkpoints as JSON.
public struct RealNVPConfiguration: Codable, Sendable, Equatable {
    /// Data dimension (≥ 2: a coupling needs something to condition on).
    public var dimension: Int
    /// Number of affine coupling layers; masks alternate between layers.
    public var couplings: Int
    /// Hidden widths of each coupling's scale-and-shift network.
    public var hidden: [Int]
    /// An actnorm layer (Kingma & Dhariwal 2018) before every coupling, initialised from the
    /// first training batch.
    public var actnorm: Bool

    /// Settings for d-dimensional data with `couplings` layers, coupling networks of widths `hidden`, and optional actnorm.
    public init(dimension: Int, couplings: Int = 8, hidden: [Int] = [64, 64], actnorm: Bool = false) {
        self.dimension = dimension
        self.couplings = couplings
        self.hidden = hidden
        self.actnorm = actnorm
    }

    /// Throws ``FlowError/invalidConfiguration(_:)`` naming the first setting out of range.
    public func validate() throws {
        guard dimension >= 2 else {
            throw FlowError.invalidConfiguration("Real NVP needs data of dimension ≥ 2, got \(dimension)")
        }
        guard couplings >= 1 else { throw FlowError.invalidConfiguration("couplings must be ≥ 1, got \(couplings)") }
        guard !hidden.isEmpty, hidden.allSatisfy({ $0 > 0 }) else {
            throw FlowError.invalidConfiguration("hidden widths must be positive, e.g. 64-64; got \(hidden)")
        }
    }
}

/// Real NVP (Dinh, Sohl-Dickstein & Bengio 2017) for vectors: affine coupling layers
///
///     y = x ⊙ m + (1 − m) ⊙ (x ⊙ exp(s(x ⊙ m)) + t(x ⊙ m)),   log|det| = Σ (1 − m) ⊙ s,
///
/// with alternating masks `m`, scale and shift from one MLP per layer, and scales bounded by
/// `s = σ ⊙ tanh(ŝ)` with a learned per-dimension `σ`. Both directions are closed form. The
/// last layer of every network starts at zero, so a fresh model is the identity.
public final class RealNVP<Scalar: TensorScalar>: Flow {
    /// The model's settings (stored in checkpoints).
    public let configuration: RealNVPConfiguration
    let masks: [Tensor<Scalar>]
    let nets: [Sequential<Scalar>]
    let scales: [Variable<Scalar>]
    let actnormBias: [Variable<Scalar>]
    let actnormLogScale: [Variable<Scalar>]

    /// Builds the model (the identity map: every network's last layer is zero); throws when `configuration` is invalid.
    public init(_ configuration: RealNVPConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        let d = configuration.dimension
        var masks: [Tensor<Scalar>] = [], nets: [Sequential<Scalar>] = [], scales: [Variable<Scalar>] = []
        var bias: [Variable<Scalar>] = [], logScale: [Variable<Scalar>] = []
        for layer in 0..<configuration.couplings {
            masks.append(Tensor(shape: [1, d], scalars: (0..<d).map { ($0 + layer) % 2 == 0 ? 1 : 0 }))
            let widths = [d] + configuration.hidden
            var steps: [Sequential<Scalar>.Step] = []
            for i in 0..<(widths.count - 1) {
                steps.append(.linear(Linear(inputSize: widths[i], outputSize: widths[i + 1], using: &rng)))
                steps.append(.activation(.relu))
            }
            let last = Linear<Scalar>(inputSize: widths.last!, outputSize: 2 * d, using: &rng)
            last.weight.assign(Tensor(zeros: last.weight.shape))
            last.bias?.assign(Tensor(zeros: [2 * d]))
            steps.append(.linear(last))
            nets.append(Sequential(steps))
            scales.append(Variable(Tensor(ones: [1, d]), requiresGradient: true))
            if configuration.actnorm {
                bias.append(Variable(Tensor(zeros: [1, d]), requiresGradient: true))
                logScale.append(Variable(Tensor(zeros: [1, d]), requiresGradient: true))
            }
        }
        (self.masks, self.nets, self.scales) = (masks, nets, scales)
        (self.actnormBias, self.actnormLogScale) = (bias, logScale)
    }

    /// The data dimension d.
    public var dimension: Int { configuration.dimension }

    /// `couplings.<k>.net.…` and `couplings.<k>.scale` per layer, with `actnorm.<k>.bias` / `.log_scale` when enabled.
    public var namedParameters: [(String, Variable<Scalar>)] {
        (0..<configuration.couplings).flatMap { i -> [(String, Variable<Scalar>)] in
            var p = prefixed("couplings.\(i).net", nets[i].namedParameters) + [("couplings.\(i).scale", scales[i])]
            if configuration.actnorm {
                p += [("actnorm.\(i).bias", actnormBias[i]), ("actnorm.\(i).log_scale", actnormLogScale[i])]
            }
            return p
        }
    }

    /// Scale `s` and shift `t` of coupling `i`, already masked to the transformed dimensions.
    private func scaleAndShift(_ i: Int, _ conditioner: Variable<Scalar>) -> (Variable<Scalar>, Variable<Scalar>) {
        let d = dimension
        let out = nets[i](conditioner)
        let free = Variable(1 - masks[i])
        let s = tanh(out.slice(axis: 1, 0..<d)) * scales[i] * free
        let t = out.slice(axis: 1, d..<(2 * d)) * free
        return (s, t)
    }

    /// Data → base.
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try checkShape(x)
        let n = x.shape[0]
        var h = x
        var logDet = Variable(Tensor<Scalar>(zeros: [n]))
        for i in 0..<configuration.couplings {
            if configuration.actnorm {
                h = (h + actnormBias[i]) * exp(actnormLogScale[i])
                logDet = logDet + actnormLogScale[i].sum()
            }
            let (s, t) = scaleAndShift(i, h * masks[i])
            h = h * exp(s) + t
            logDet = logDet + s.sum(axes: [1])
        }
        return FlowOutput(value: h, logDeterminant: logDet)
    }

    /// Base → data.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try checkShape(z)
        let n = z.shape[0]
        var h = z
        var logDet = Variable(Tensor<Scalar>(zeros: [n]))
        for i in (0..<configuration.couplings).reversed() {
            let (s, t) = scaleAndShift(i, h * masks[i])
            h = (h - t) * exp(-s)
            logDet = logDet - s.sum(axes: [1])
            if configuration.actnorm {
                h = h * exp(-actnormLogScale[i]) - actnormBias[i]
                logDet = logDet - actnormLogScale[i].sum()
            }
        }
        return FlowOutput(value: h, logDeterminant: logDet)
    }

    /// Data-dependent actnorm initialisation: each actnorm layer maps the batch, as it arrives
    /// there, to zero mean and unit variance per dimension.
    public func prepare(_ batch: Tensor<Scalar>) throws {
        guard configuration.actnorm else { return }
        try checkShape(Variable(batch))
        withoutGradient {
            var h = Variable(batch)
            for i in 0..<configuration.couplings {
                let n = Double(h.shape[0]), d = dimension
                let v = h.value.scalars
                var bias = [Scalar](repeating: 0, count: d), logScale = [Scalar](repeating: 0, count: d)
                for j in 0..<d {
                    var mean = 0.0, sq = 0.0
                    for r in 0..<h.shape[0] { mean += Double(v[r * d + j]) }
                    mean /= n
                    for r in 0..<h.shape[0] { sq += (Double(v[r * d + j]) - mean) * (Double(v[r * d + j]) - mean) }
                    bias[j] = Scalar(-mean)
                    logScale[j] = Scalar(-0.5 * Foundation.log(sq / n + 1e-6))
                }
                actnormBias[i].assign(Tensor(shape: [1, d], scalars: bias))
                actnormLogScale[i].assign(Tensor(shape: [1, d], scalars: logScale))
                h = (h + actnormBias[i]) * exp(actnormLogScale[i])
                let (s, t) = scaleAndShift(i, h * masks[i])
                h = h * exp(s) + t
            }
        }
    }

    /// Mean negative log-likelihood of the batch `x` ([n, d]) in nats.
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let nll = -(try logProbability(x)).mean()
        return TrainingLoss(loss: nll, nll: Double(nll.value.scalar))
    }

    private func checkShape(_ x: Variable<Scalar>) throws {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "Real NVP input")
        }
    }
}
