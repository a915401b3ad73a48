import LaminarAutodiff
import LaminarNN
import LaminarODE

/// Settings of a ``PlanarCNF``; stored in checkpoints as JSON.
public struct PlanarCNFConfiguration: Codable, Sendable, Equatable {
    /// Data dimension.
    public var dimension: Int
    /// Number of hidden units M of the vector field.
    public var width: Int
    /// Hidden width of the hypernetwork that maps t to the field's parameters.
    public var hyperHidden: Int
    /// Integration length T (fixed).
    public var timeLength: Double
    /// Solver, tolerances and gradient method, as for FFJORD.
    public var solve: SolveSettings

    /// Settings for d-dimensional data with M = `width` hidden units, a hypernetwork of width `hyperHidden`, T = `timeLength`.
    public init(
        dimension: Int, width: Int = 8, hyperHidden: Int = 32, timeLength: Double = 1, solve: SolveSettings = SolveSettings()
    ) {
        self.dimension = dimension
        self.width = width
        self.hyperHidden = hyperHidden
        self.timeLength = timeLength
        self.solve = solve
    }

    enum CodingKeys: String, CodingKey { case dimension, width, hyperHidden, timeLength }

    /// Decodes the JSON of a checkpoint; the solve settings are flat keys of the same object.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            dimension: try c.decode(Int.self, forKey: .dimension), width: try c.decode(Int.self, forKey: .width),
            hyperHidden: try c.decode(Int.self, forKey: .hyperHidden), timeLength: try c.decode(Double.self, forKey: .timeLength),
            solve: try SolveSettings(from: decoder))
    }

    /// Encodes the settings for a checkpoint, the solve settings as flat keys of the same object.
    public func encode(to encoder: any Encoder) throws {
        try solve.encode(flatWith: self, keyedBy: CodingKeys.self, to: encoder)
    }

    /// Throws ``FlowError/invalidConfiguration(_:)`` naming the first setting out of range.
    public func validate() throws {
        func fail(_ s: String) -> FlowError { .invalidConfiguration(s) }
        guard dimension >= 1 else { throw fail("dimension must be ≥ 1, got \(dimension)") }
        guard width >= 1 else { throw fail("planar CNF width M must be ≥ 1, got \(width)") }
        guard hyperHidden >= 1 else { throw fail("hypernetwork width must be ≥ 1, got \(hyperHidden)") }
        guard timeLength > 0, timeLength.isFinite else { throw fail("time length must be > 0, got \(timeLength)") }
        try validateSolveSettings(solve)
    }
}

/// The planar CNF's vector field (Chen et al. 2018, §4):
///
///     f(z, t) = (1/M) Σ_m u_m(t) · tanh(w_m(t)ᵀz + b_m(t)),
///
/// with `u_m, w_m, b_m` produced from `t` by a small hypernetwork (`u` gated by a sigmoid).
/// Its divergence is exact and cheap: `tr ∂f/∂z = (1/M) Σ_m (u_mᵀw_m) · (1 − tanh²(w_mᵀz + b_m))`.
public final class PlanarVectorField<Scalar: TensorScalar>: CNFVectorField {
    /// Data dimension d.
    public let dimension: Int
    /// Number of hidden units M.
    public let width: Int
    let hyper: Sequential<Scalar>

    /// A field of width M = `width` on d-dimensional data whose hypernetwork has `hyperHidden` units per layer, initialised from `rng`.
    public init(dimension: Int, width: Int, hyperHidden: Int, using rng: inout RandomGenerator) {
        self.dimension = dimension
        self.width = width
        hyper = Sequential([
            .linear(Linear(inputSize: 1, outputSize: hyperHidden, using: &rng)), .activation(.tanh),
            .linear(Linear(inputSize: hyperHidden, outputSize: hyperHidden, using: &rng)), .activation(.tanh),
            .linear(Linear(inputSize: hyperHidden, outputSize: 3 * width * dimension + width, using: &rng)),
        ])
    }

    /// The hypernetwork's parameters, as `hyper.<layer>.weight` / `.bias`.
    public var namedParameters: [(String, Variable<Scalar>)] { prefixed("hyper", hyper.namedParameters) }

    /// `W` [M, d], `U` [M, d] (gated) and `B` [1, M] at time `t`.
    func fieldParameters(_ t: Variable<Scalar>) -> (w: Variable<Scalar>, u: Variable<Scalar>, b: Variable<Scalar>) {
        let md = width * dimension
        let p = hyper(t.reshaped([1, 1]))
        let w = p.slice(axis: 1, 0..<md).reshaped([width, dimension])
        let u = p.slice(axis: 1, md..<(2 * md)).reshaped([width, dimension])
        let gate = sigmoid(p.slice(axis: 1, (2 * md)..<(3 * md)).reshaped([width, dimension]))
        let b = p.slice(axis: 1, (3 * md)..<(3 * md + width))
        return (w, u * gate, b)
    }

    /// `f(t, z)` for `z` [n, d] at time `t` (rank 0).
    public func callAsFunction(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        let (w, u, b) = fieldParameters(t)
        let h = tanh(matmul(z, w, transposeB: true) + b)  // [n, M]
        return matmul(h, u) * Scalar(1 / Double(width))
    }

    /// `f(t, z)` and its exact divergence in closed form ([n, 1]), with no vector–Jacobian product.
    public func valueAndDivergence(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> (f: Variable<Scalar>, trace: Variable<Scalar>)? {
        let (w, u, b) = fieldParameters(t)
        let h = tanh(matmul(z, w, transposeB: true) + b)  // [n, M]
        let f = matmul(h, u) * Scalar(1 / Double(width))
        let uw = (u * w).sum(axes: [1]).reshaped([1, width])  // u_mᵀw_m
        let trace = ((Scalar(1) - square(h)) * uw).sum(axes: [1], keepDims: true) * Scalar(1 / Double(width))
        return (f, trace)
    }
}

/// The planar continuous normalizing flow of Chen et al. (2018, §4): one CNF block whose
/// dynamics are a ``PlanarVectorField`` of width M, solved by the shared solver and gradient
/// core with the exact (closed-form) trace. Capacity grows with the width M, where the
/// discrete ``PlanarFlow`` needs depth.
public final class PlanarCNF<Scalar: TensorScalar>: Flow {
    /// The model's settings (stored in checkpoints).
    public let configuration: PlanarCNFConfiguration
    /// The single CNF block over [0, T].
    public let block: CNFBlock<Scalar>

    /// Builds the model with fresh weights from `rng`; throws when `configuration` is invalid.
    public init(_ configuration: PlanarCNFConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        let field = PlanarVectorField<Scalar>(
            dimension: configuration.dimension, width: configuration.width, hyperHidden: configuration.hyperHidden,
            using: &rng)
        block = CNFBlock(
            field: field, timeLength: configuration.timeLength, trainTime: false,
            options: configuration.solve.odeOptions, gradient: configuration.solve.gradient)
    }

    /// The data dimension d.
    public var dimension: Int { configuration.dimension }

    /// The block's parameters with their checkpoint names.
    public var namedParameters: [(String, Variable<Scalar>)] { block.namedParameters }

    /// The integration length T.
    public var endTime: Double? { block.endTime }

    /// Data → base over [0, T] with the closed-form trace.
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try run(x, reverse: false)
    }

    /// Base → data over [T, 0] with the closed-form trace.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try run(z, reverse: true)
    }

    private func run(_ x: Variable<Scalar>, reverse: Bool) throws -> FlowOutput<Scalar> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "planar CNF input")
        }
        let out = try block.run(x, reverse: reverse)
        return FlowOutput(value: out.z, logDeterminant: -out.deltaLogP.reshaped([-1]), nfe: out.stats.nfe)
    }

    /// Mean negative log-likelihood of the batch `x` ([n, d]) in nats (no noise: the trace is exact).
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        let out = try block.run(x, reverse: false)
        let logp = standardNormalLogDensity(out.z) - out.deltaLogP.reshaped([-1])
        let nll = -logp.mean()
        return TrainingLoss(loss: nll, nll: Double(nll.value.scalar), nfeForward: out.stats.nfe, backward: [out.backward])
    }
}
