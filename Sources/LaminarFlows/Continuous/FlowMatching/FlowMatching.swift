import LaminarAutodiff

/// Conditional flow matching (Lipman et al. 2023; Tong et al. 2024; Liu et al. 2023 for
/// reflow): a CNF's vector field is regressed on the velocity of a known conditional path, one
/// field evaluation per step and no ODE solve. The trained field is an ordinary CNF block, so
/// its likelihood comes from the same instantaneous change of variables as a
/// maximum-likelihood model's.
///
/// Directions. Flow-matching time `u` has noise at 0 and data at 1; Laminar's CNF time `t`
/// has data at 0 and the base N(0, I) at T. With `t = T(1 − u)`:
///
///     x_t = α_u x₁ + σ_u x₀,   target f(t, x_t) = dx/dt = −(α̇_u x₁ + σ̇_u x₀) / T
///
/// and the loss is the mean over rows and dimensions of `(f(t, x_t) − target)²`. T is held
/// fixed (a learned FFJORD T receives no gradient from this loss).
public final class FlowMatching<Scalar: TensorScalar>: TrainingObjective {
    /// Path, coupling, OT regularisation and reflow teacher of the run (validated by the
    /// initialiser).
    public let configuration: FlowMatchingConfiguration
    /// Reflow's teacher (base → data transport), nil for the other couplings.
    public let teacher: (any Flow<Scalar>)?

    /// - Parameter teacher: required for `.reflow`, of the same dimension as the trained model.
    public init(_ configuration: FlowMatchingConfiguration, teacher: (any Flow<Scalar>)? = nil) throws {
        try configuration.validate()
        if configuration.coupling == .reflow && teacher == nil {
            throw FlowError.invalidConfiguration("--coupling reflow needs a teacher model (--teacher)")
        }
        self.configuration = configuration
        self.teacher = teacher
    }

    /// `flow-matching`, the objective's name in checkpoints and metrics.
    public var name: String { "flow-matching" }

    /// The field of `flow`, which must be a single CNF block (``VectorFieldFlow``).
    public static func field(of flow: any Flow<Scalar>) throws -> (field: any CNFVectorField<Scalar>, endTime: Double) {
        let base = (flow as? AnyFlow<Scalar>)?.base ?? flow
        guard let continuous = base as? any VectorFieldFlow<Scalar> else {
            throw FlowError.invalidConfiguration(
                "flow matching trains a CNF's vector field; \(type(of: base)) has none (use --objective likelihood)")
        }
        return try continuous.singleVectorField()
    }

    /// One draw of the regression problem for the data batch `x1` ([n, d]): the CNF times
    /// ([n, 1]), the points on the path and the target velocities in CNF time, and the teacher's
    /// function evaluations (reflow).
    public func regressionBatch(data x1: Tensor<Scalar>, endTime: Double, using rng: inout RandomGenerator)
        throws -> (times: Tensor<Scalar>, points: Tensor<Scalar>, targets: Tensor<Scalar>, teacherNFE: Int) {
        let n = x1.shape[0], d = x1.shape[1]
        // Under data parallelism each rank draws the global batch's noise and times and keeps its
        // rows, so with the independent coupling N ranks compute what one process computes (the
        // OT couplings pair within each rank's rows).
        var noise = BatchShard.perRow([n, d]) { Tensor<Scalar>.randomNormal($0, using: &rng) }
        var data = x1
        var teacherNFE = 0
        if configuration.coupling == .reflow, let teacher {
            guard teacher.dimension == d else {
                throw FlowError.shapeMismatch(expected: [n, teacher.dimension], found: [n, d], what: "reflow teacher")
            }
            (data, teacherNFE) = try teacher.sampleTransport(noise)
        } else {
            noise = configuration.coupling.pairedNoise(
                noise: noise, data: data, sinkhornRegularization: configuration.otRegularization, using: &rng)
        }
        let uMax = configuration.path.maximumTime
        let u = BatchShard.perRow([n]) { shape in Tensor<Double>(shape: shape, scalars: (0..<shape[0]).map { _ in rng.uniform() * uMax }) }.scalars
        let (points, velocity) = configuration.path.interpolate(noise: noise, data: data, times: u)
        let times = Tensor<Scalar>(shape: [n, 1], scalars: u.map { Scalar(endTime * (1 - $0)) })
        return (times, points, velocity * Scalar(-1 / endTime), teacherNFE)
    }

    /// The mean over rows and dimensions of `(f(t, x_t) − target)²` for one
    /// ``regressionBatch(data:endTime:using:)`` draw from the batch `x` ([n, d]): one field
    /// evaluation, no solve. `nll` is NaN; `nfeForward` is 1 plus the teacher's evaluations
    /// (reflow); the loss is also reported as the `flow_matching` regulariser. Throws when `flow` is
    /// not a single CNF block with a fixed T.
    public func loss(of flow: any Flow<Scalar>, batch x: Variable<Scalar>, using rng: inout RandomGenerator) throws
        -> TrainingLoss<Scalar> {
        let (field, endTime) = try Self.field(of: flow)
        let problem = try regressionBatch(data: x.value, endTime: endTime, using: &rng)
        let prediction = field(rowTimes: Variable(problem.times), Variable(problem.points))
        let loss = square(prediction - problem.targets).mean()
        return TrainingLoss(
            loss: loss, nll: .nan, nfeForward: 1 + problem.teacherNFE,
            regularizers: ["flow_matching": Double(loss.value.scalar)])
    }
}
