import LaminarAutodiff

/// A residual flow (Behrmann et al. 2019, "Invertible Residual Networks"; Chen et al. 2019,
/// "Residual Flows for Invertible Generative Modeling"): K invertible residual blocks
/// `z = x + g_k(x)` from data to base, each `g_k` spectrally normalised to `Lip(g_k) ≤ c < 1` —
/// the discrete, fixed-depth counterpart of a CNF's `dz/dt = f(z, t)`.
///
/// - Density (data → base): each block's `log det(I + J_g)` by the plan of
///   ``ResidualFlowConfiguration/logDeterminant``: in training the unbiased Russian-roulette
///   power series with the Neumann-series gradient (or the truncated series, or the exact LU);
///   traces exact (d unit probes) or by Hutchinson's estimator (one Gaussian probe per block).
///   ``forward(_:)`` (evaluation) is exact for d ≤ 8 (LU of every row's Jacobian); above, it is
///   the unbiased estimator with at least 10 exact terms, Hutchinson traces and a fixed seed,
///   and ``estimatedForward(_:using:)`` draws fresh noise.
/// - Sampling (base → data): each block inverted by fixed-point iteration (tolerance
///   ``ResidualFlowConfiguration/inverseTolerance``), differentiable through the
///   implicit-function gradient, so density matching (`laminar compare`) trains through it.
///
/// Spectral norms: every layer's power iteration advances by
/// ``ResidualFlowConfiguration/powerIterations`` at each training step — in
/// ``trainingLoss(_:using:)`` and in ``inverse(_:)`` while a graph is recorded (density
/// matching); evaluation never changes them.
public final class ResidualFlow<Scalar: TensorScalar>: Flow {
    /// The model's settings (stored in checkpoints).
    public let configuration: ResidualFlowConfiguration
    /// The K residual blocks, data side first.
    public let blocks: [ResidualBlock<Scalar>]

    /// Builds the model with fresh weights from `rng`; throws when `configuration` is invalid.
    public init(_ configuration: ResidualFlowConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        blocks = (0..<configuration.depth).map { _ in
            ResidualBlock(
                dimension: configuration.dimension, hidden: configuration.hidden, lipschitz: configuration.lipschitz,
                using: &rng)
        }
    }

    /// The data dimension d.
    public var dimension: Int { configuration.dimension }

    /// `blocks.<k>.…` for every block, power-iteration vectors included.
    public var namedParameters: [(String, Variable<Scalar>)] {
        blocks.enumerated().flatMap { i, b in b.namedParameters.map { ("blocks.\(i).\($0.0)", $0.1) } }
    }

    /// Whether d is small enough for the exact Jacobian (LU) in evaluation.
    public var exactLogDeterminantIsAffordable: Bool { dimension <= ResidualFlowConfiguration.exactDimensionLimit }

    /// Evaluation terms of the unbiased estimator when the exact Jacobian is not affordable.
    private var evaluationTerms: Int { Swift.max(configuration.terms, 10) }

    /// Data → base with the evaluation log-determinant (exact for d ≤ 8, see the type).
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        var rng = RandomGenerator(seed: 0x5EED)
        return try transport(x, evaluationPlan: true, using: &rng)
    }

    /// Data → base with the unbiased estimator and fresh Hutchinson noise (d > 8), or `forward`.
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try transport(x, evaluationPlan: true, using: &rng)
    }

    private func transport(_ x: Variable<Scalar>, evaluationPlan: Bool, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try checkShape(x)
        var h = x
        var logDet: Variable<Scalar>? = nil
        for block in blocks {
            let plan: LogDeterminantPlan, probes: LogDeterminantProbes<Scalar>
            if evaluationPlan {
                (plan, probes) = evaluation(rows: x.shape[0], using: &rng)
            } else {
                (plan, probes) = training(rows: x.shape[0], using: &rng)
            }
            let out = block.forwardWithLogDeterminant(h, plan: plan, probes: probes)
            h = out.y
            logDet = logDet.map { $0 + out.logDeterminant } ?? out.logDeterminant
        }
        return FlowOutput(value: h, logDeterminant: logDet!)
    }

    /// The evaluation plan of one block.
    private func evaluation(rows: Int, using rng: inout RandomGenerator) -> (LogDeterminantPlan, LogDeterminantProbes<Scalar>) {
        if exactLogDeterminantIsAffordable { return (.exact, .exact) }
        let plan = LogDeterminantPlan.russianRoulette(exactTerms: evaluationTerms, p: configuration.geometricP, using: &rng)
        return (plan, .hutchinson(.randomNormal([rows, dimension], using: &rng)))
    }

    /// The training plan of one block (fresh randomness per block).
    private func training(rows: Int, using rng: inout RandomGenerator) -> (LogDeterminantPlan, LogDeterminantProbes<Scalar>) {
        let plan: LogDeterminantPlan
        switch configuration.logDeterminant {
        case "exact": return (.exact, .exact)
        case "truncated": plan = .truncated(configuration.terms)
        default: plan = .russianRoulette(exactTerms: configuration.terms, p: configuration.geometricP, using: &rng)
        }
        let probes: LogDeterminantProbes<Scalar> = configuration.trace == "exact"
            ? .exact : .hutchinson(.randomNormal([rows, dimension], using: &rng))
        return (plan, probes)
    }

    /// Base → data: blocks inverted by fixed-point iteration, `log|det ∂x/∂z| = −Σ log det(I + J_g(x))`
    /// with the evaluation log-determinant at the recovered points.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> {
        try checkShape(z)
        if GradientMode.isRecording { advanceSpectralNorms() }
        var rng = RandomGenerator(seed: 0x5EED)
        var h = z
        var logDet: Variable<Scalar>? = nil
        for (index, block) in blocks.enumerated().reversed() {
            h = try block.inverse(
                h, tolerance: configuration.inverseTolerance, maxIterations: configuration.inverseIterations, index: index)
            let (plan, probes) = evaluation(rows: z.shape[0], using: &rng)
            let ld = -block.forwardWithLogDeterminant(h, plan: plan, probes: probes).logDeterminant
            logDet = logDet.map { $0 + ld } ?? ld
        }
        return FlowOutput(value: h, logDeterminant: logDet!)
    }

    /// Base → data without log-determinants, no graph.
    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        try checkShape(Variable(z))
        var h = z
        for (index, block) in blocks.enumerated().reversed() {
            h = try block.fixedPoint(
                h, tolerance: configuration.inverseTolerance, maxIterations: configuration.inverseIterations, index: index)
        }
        return (h, 0)
    }

    /// Negative log-likelihood with the training log-determinant; advances the spectral norms first.
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        advanceSpectralNorms()
        let out = try transport(x, evaluationPlan: false, using: &rng)
        let nll = -(standardNormalLogDensity(out.value) + out.logDeterminant).mean()
        return TrainingLoss(loss: nll, nll: Double(nll.value.scalar))
    }

    /// One training step's worth of power iteration in every layer.
    public func advanceSpectralNorms() {
        for block in blocks { block.powerIterate(configuration.powerIterations) }
    }

    private func checkShape(_ x: Variable<Scalar>) throws {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw FlowError.shapeMismatch(expected: [-1, dimension], found: x.shape, what: "residual flow input")
        }
    }
}
