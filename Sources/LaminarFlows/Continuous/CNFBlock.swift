import LaminarAutodiff
import LaminarODE

/// One continuous normalizing flow block: integrates the augmented dynamics of its field
/// (``CNFDynamics``) from the data side (t = 0) to the base side (t = T), or back.
///
/// `T = s²` with `s` a parameter when `trainTime` is set (FFJORD's `train_T`), so that T stays
/// positive; gradients reach `s` through the time gradient of the solve. The trace estimator is
/// not part of the block: every solve receives its own (``run(_:reverse:trace:kinetic:jacobian:)``).
public final class CNFBlock<Scalar: TensorScalar> {
    /// The vector field `f(t, z)`, whose parameters are the block's.
    public let field: any CNFVectorField<Scalar>
    /// `√T`; a trainable leaf when `trainTime` is set.
    public let sqrtEndTime: Variable<Scalar>
    /// Whether the integration length T is learned.
    public let trainTime: Bool
    /// Forward-solve options (method, tolerances).
    public var options: ODEOptions
    /// Backward-pass method.
    public var gradient: GradientMethod

    /// A block integrating `field` over `[0, timeLength]`, with `options` for the forward solves
    /// and `gradient` for their backward passes.
    public init(
        field: any CNFVectorField<Scalar>, timeLength: Double, trainTime: Bool, options: ODEOptions,
        gradient: GradientMethod
    ) {
        self.field = field
        self.sqrtEndTime = Variable(Tensor([Scalar(timeLength.squareRoot())]), requiresGradient: trainTime)
        self.trainTime = trainTime
        self.options = options
        self.gradient = gradient
    }

    /// The integration length T.
    public var endTime: Double { Double(sqrtEndTime.value.scalars[0] * sqrtEndTime.value.scalars[0]) }

    /// Parameters with names relative to the block.
    public var namedParameters: [(String, Variable<Scalar>)] {
        field.namedParameters.map { ("odefunc.\($0.0)", $0.1) } + (trainTime ? [("sqrt_end_time", sqrtEndTime)] : [])
    }

    /// The augmented dynamics of one solve: the divergence from `trace` (with its noise), and
    /// the kinetic / Jacobian-Frobenius states when asked.
    public func dynamics(
        trace: DrawnTraceEstimator<Scalar>, kinetic: Bool = false, jacobian: Bool = false
    ) -> CNFDynamics<Scalar> {
        CNFDynamics(net: field, trace: trace, kinetic: kinetic, jacobian: jacobian)
    }

    /// The result of integrating a batch through the block.
    public struct Output {
        /// The state at the end of the solve ([n, d]).
        public var z: Variable<Scalar>
        /// `Δ` at the end of the solve (so that log|det| of the transport is `−Δ`), [n, 1].
        public var deltaLogP: Variable<Scalar>
        /// `∫‖f‖² dt` per row ([n, 1]) when the kinetic state was carried.
        public var kinetic: Variable<Scalar>?
        /// `∫‖∂f/∂z‖²_F dt` per row ([n, 1]) when the Jacobian state was carried.
        public var jacobian: Variable<Scalar>?
        /// Statistics of the forward solve.
        public var stats: ODEStats
        /// Statistics of the backward pass, filled in when gradients flow through the solve.
        public var backward: BackwardStats
    }

    /// Integrates `x` ([n, d]) from t = 0 to T (`reverse: false`, data → base) or from T to 0,
    /// with the divergence from `trace` (whose Hutchinson noise, [n, d], is fixed for the solve).
    public func run(
        _ x: Variable<Scalar>, reverse: Bool, trace: DrawnTraceEstimator<Scalar> = .exact, kinetic: Bool = false,
        jacobian: Bool = false
    ) throws -> Output {
        let n = x.shape[0]
        let dynamics = dynamics(trace: trace, kinetic: kinetic, jacobian: jacobian)
        var y0 = [x, Variable(Tensor<Scalar>(zeros: [n, 1]))]
        if kinetic { y0.append(Variable(Tensor<Scalar>(zeros: [n, 1]))) }
        if jacobian { y0.append(Variable(Tensor<Scalar>(zeros: [n, 1]))) }
        let end = square(sqrtEndTime)
        let zero = Variable(Tensor<Scalar>([0]))
        let times = reverse ? Variable.concatenate([end, zero], axis: 0) : Variable.concatenate([zero, end], axis: 0)
        let result = try odeint(dynamics, y0, times: times, options: options, gradient: gradient)
        let final = result.final
        var index = 2
        var k: Variable<Scalar>? = nil
        var j: Variable<Scalar>? = nil
        if kinetic { k = final[index]; index += 1 }
        if jacobian { j = final[index] }
        return Output(
            z: final[0], deltaLogP: final[1], kinetic: k, jacobian: j,
            stats: result.stats, backward: result.backwardStats)
    }

    /// Base → data (t = T to 0) of `z` ([n, d]) under the plain field, without a divergence and
    /// without recording a graph: what sampling needs. `times` defaults to `[T, 0]`.
    public func sampleSolve(_ z: Tensor<Scalar>, times: [Double]? = nil) throws -> ODEIntResult<Scalar> {
        let field = self.field
        let f = ClosureDynamics<Scalar>(parameters: []) { t, y in [field(t, y[0])] }
        return try withoutGradient { try odeint(f, [Variable(z)], times: times ?? [endTime, 0], options: options) }
    }
}
