import LaminarAutodiff

/// A type-erased ``Flow``: what the trainer, the evaluators and the command line hold when the
/// model is chosen at run time. `base` is the wrapped model, for model-specific features
/// (e.g. ``FFJORD/trajectory(_:frames:)``).
public final class AnyFlow<Scalar: TensorScalar>: Flow {
    public let base: any Flow<Scalar>

    public init(_ flow: any Flow<Scalar>) {
        base = (flow as? AnyFlow<Scalar>)?.base ?? flow
    }

    public var dimension: Int { base.dimension }
    public var namedParameters: [(String, Variable<Scalar>)] { base.namedParameters }
    public var endTime: Double? { base.endTime }
    public var exactLogDeterminantIsAffordable: Bool { base.exactLogDeterminantIsAffordable }

    public func forward(_ x: Variable<Scalar>) throws -> FlowOutput<Scalar> { try base.forward(x) }
    public func inverse(_ z: Variable<Scalar>) throws -> FlowOutput<Scalar> { try base.inverse(z) }
    public func estimatedForward(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> FlowOutput<Scalar> {
        try base.estimatedForward(x, using: &rng)
    }
    public func prepare(_ batch: Tensor<Scalar>) throws { try base.prepare(batch) }

    public func sampleTransport(_ z: Tensor<Scalar>) throws -> (Tensor<Scalar>, nfe: Int) {
        try base.sampleTransport(z)
    }

    public func trainingLoss(_ x: Variable<Scalar>, using rng: inout RandomGenerator) throws -> TrainingLoss<Scalar> {
        try base.trainingLoss(x, using: &rng)
    }
}
