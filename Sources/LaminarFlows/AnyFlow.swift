import LaminarAutodiff

/// A type-erased ``Flow``: what the trainer, the evaluators and the command line hold when the
/// model is chosen at run time. `base` is the wrapped model, for model-specific features
/// (e.g. ``FFJORD/trajectory(_:frames:)``).
public final class AnyFlow<Scalar: TensorScalar>: Flow {
    /// The wrapped model (never itself an `AnyFlow`).
    public let base: any Flow<Scalar>

    /// Wraps `flow`; wrapping an `AnyFlow` wraps its base instead.
    public init(_ flow: any Flow<Scalar>) {
        base = (flow as? AnyFlow<Scalar>)?.base ?? flow
    }

    /// The base model's data dimension d.
    public var dimension: Int { base.dimension }
    /// The base model's parameters with their checkpoint names.
    public var namedParameters: [(String, Variable<Scalar>)] { base.namedParameters }
    /// The base model's first integration length T (nil for discrete flows).
    public var endTime: Double? { base.endTime }
    /// Whether the base model evaluates with its exact log-determinant.
    public var exactLogDeterminantIsAffordable: Bool { base.exactLogDeterminantIsAffordable }

    /// The base model's data → base transport with its exact log-determinant.
    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> { try base.forward(x) }
    /// The base model's base → data transport with its log-determinant.
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> { try base.inverse(z) }
    /// The base model's data → base transport with its estimated log-determinant (noise from `rng`).
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try base.estimatedForward(x, using: &rng)
    }
    /// The base model's data-dependent initialisation from the first batch.
    public func prepare(_ batch: Tensor<Scalar>) throws { try base.prepare(batch) }

    /// The base model's base → data transport without the log-determinant, and its NFE.
    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        try base.sampleTransport(z)
    }

    /// The base model's training objective on the batch `x` ([n, d]).
    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        try base.trainingLoss(x, using: &rng)
    }
}
