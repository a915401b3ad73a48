@_exported import LaminarAutodiff
import LaminarTensor

/// A density model with a tractable log-likelihood and a sampler: every model `laminar train`,
/// `evaluate`, `sample` and `density` work with.
///
/// Directions: `forward` maps data to the base distribution (x → z), `inverse` maps base to
/// data. Log-densities are per row and in nats.
public protocol Flow<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// Dimension of one data point.
    var dimension: Int { get }
    /// Trainable parameters with stable dotted names (checkpoint keys).
    var namedParameters: [(String, Variable<Scalar>)] { get }

    /// `x ([n, d]) → (z, log|det ∂z/∂x|)`, the log-determinant per row ([n]).
    func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar>
    /// `z ([n, d]) → (x, log|det ∂x/∂z|)`.
    func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar>
    /// The training objective on a batch: mean negative log-likelihood plus any regularizers.
    func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar>
    /// Data-dependent initialisation from the first training batch (actnorm); default: nothing.
    func prepare(_ batch: Tensor<Scalar>) throws
    /// Base → data without the log-determinant, no graph (sampling); default: `inverse`.
    func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int)
    /// The integration length of the first continuous block, for the metrics file; nil for
    /// discrete flows.
    var endTime: Double? { get }
    /// Whether `forward`'s exact log-determinant is affordable for evaluation. When false
    /// (CNFs on images: the exact trace needs one vector-Jacobian product per dimension at every
    /// function evaluation), evaluations use ``estimatedForward(_:using:)``.
    var exactLogDeterminantIsAffordable: Bool { get }
    /// Data → base with the log-determinant as the model is configured to estimate it (CNFs:
    /// their configured trace estimator, Hutchinson noise drawn once per solve from `rng`; the
    /// exact trace when configured so); default: the exact `forward`.
    func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar>
}

/// The result of transporting a batch through a flow.
public struct FlowOutput<Scalar: TensorScalar> {
    /// Transported points ([n, d]).
    public var value: Variable<Scalar>
    /// `log|det J|` of the transport per row ([n]).
    public var logDeterminant: Variable<Scalar>
    /// Function evaluations spent (0 for discrete flows).
    public var nfe: Int

    /// The transported points ([n, d]), their log-determinants ([n]) and the NFE spent.
    public init(value: Variable<Scalar>, logDeterminant: Variable<Scalar>, nfe: Int = 0) {
        self.value = value
        self.logDeterminant = logDeterminant
        self.nfe = nfe
    }
}

/// A training objective and what went into it.
public struct TrainingLoss<Scalar: TensorScalar> {
    /// The scalar to minimise.
    public var loss: Variable<Scalar>
    /// Mean negative log-likelihood of the batch (nats), as estimated in training.
    public var nll: Double
    /// Forward function evaluations.
    public var nfeForward: Int
    /// Backward statistics of the solves, filled in once the gradient has been taken.
    public var backward: [BackwardCounter]
    /// Named regularizer values (e.g. `kinetic`, `jacobian`), for the metrics file.
    public var regularizers: [String: Double]

    /// The objective `loss`, the batch's mean NLL in nats, the forward NFE, the solves' backward counters and named regularizer values.
    public init(
        loss: Variable<Scalar>, nll: Double, nfeForward: Int = 0, backward: [BackwardCounter] = [],
        regularizers: [String: Double] = [:]
    ) {
        self.loss = loss
        self.nll = nll
        self.nfeForward = nfeForward
        self.backward = backward
        self.regularizers = regularizers
    }

    /// The CNF objective: the mean negative log-likelihood `nll` plus `weight · value` of the
    /// RNODE terms that are present (kinetic energy, Jacobian Frobenius norm), which are also
    /// recorded under `kinetic` and `jacobian`.
    public init(
        nll: Variable<Scalar>, nfeForward: Int, backward: [BackwardCounter],
        kinetic: (Variable<Scalar>, Double)?, jacobian: (Variable<Scalar>, Double)?
    ) {
        var loss = nll
        var regularizers: [String: Double] = [:]
        for (name, term) in [("kinetic", kinetic), ("jacobian", jacobian)] {
            guard let (value, weight) = term else { continue }
            loss = loss + value * Scalar(weight)
            regularizers[name] = Double(value.value.scalar)
        }
        self.init(loss: loss, nll: Double(nll.value.scalar), nfeForward: nfeForward, backward: backward, regularizers: regularizers)
    }

    /// Backward NFE summed over the solves (valid after the gradient was taken).
    public var nfeBackward: Int { backward.reduce(0) { $0 + $1.nfe } }
}

/// Read access to a backward pass's function-evaluation count.
public protocol BackwardCounter: AnyObject {
    var nfe: Int { get }
}

extension Flow {
    /// Default: no data-dependent initialisation.
    public func prepare(_ batch: Tensor<Scalar>) throws {}

    /// Default: ``inverse(_:)`` of `z` ([n, d]) without recording a graph, log-determinant dropped.
    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        try withoutGradient {
            let out = try inverse(Variable(z))
            return (out.value.value, out.nfe)
        }
    }

    /// Default: nil (a discrete flow has no integration length).
    public var endTime: Double? { nil }

    /// Default: true (discrete flows compute it in closed form).
    public var exactLogDeterminantIsAffordable: Bool { true }

    /// Default: the exact ``forward(_:)`` (`rng` unused).
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try forward(x)
    }

    /// Trainable parameters in checkpoint order.
    public var parameters: [Variable<Scalar>] { namedParameters.map(\.1) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// `log p(x)` per row ([n]) under a standard-normal base: `log N(z; 0, I) + log|det ∂z/∂x|`.
    ///
    /// By design never NaN: a row whose transport overflows (points astronomically far from
    /// the data, where `∞ − ∞` can appear) gets `−∞`, and its gradient is zero.
    public func logProbability(_ x: Variable<Scalar>) throws -> Variable<Scalar> {
        let out = try forward(x)
        return nanToNegativeInfinity(standardNormalLogDensity(out.value) + out.logDeterminant)
    }

    /// `n` samples ([n, d]) from the model: base samples pushed through `inverse`, no graph.
    public func sample(_ n: Int, temperature: Double = 1, using rng: inout RandomGenerator) throws -> Tensor<Scalar> {
        var z = Tensor<Scalar>.randomNormal([n, dimension], using: &rng)
        if temperature != 1 { z = z * Scalar(temperature) }
        let base = z
        return try withoutGradient { try inverse(Variable(base)).value.value }
    }
}

/// `x` with NaN entries replaced by `−∞`; the gradient passes through the other entries and
/// is zero at the replaced ones.
func nanToNegativeInfinity<S>(_ x: Variable<S>) -> Variable<S> {
    guard !x.value.isFinite else { return x }  // vectorised check; no copy in the common case
    let values = x.value.scalars
    guard values.contains(where: { $0.isNaN }) else { return x }
    let mask = Tensor(shape: x.shape, scalars: values.map { $0.isNaN ? S(0) : S(1) })
    let cleaned = Tensor(shape: x.shape, scalars: values.map { $0.isNaN ? -S.infinity : $0 })
    return Variable.customOperation("nanToNegativeInfinity", value: cleaned, inputs: [x]) { g, _, _ in [g * mask] }
}

/// `log N(z; 0, I)` per row of `z` ([n, d] → [n]).
public func standardNormalLogDensity<S>(_ z: Variable<S>) -> Variable<S> {
    let d = z.count / Swift.max(z.shape[0], 1)
    let halfLog2Pi = S(0.918_938_533_204_672_7)  // ½·log(2π)
    return (square(z).sum(axes: [1]) * S(-0.5)) - halfLog2Pi * S(d)
}
