import LaminarAutodiff
import LaminarODE

/// One continuous normalizing flow block: integrates `CNFDynamics` from the data side (t = 0)
/// to the base side (t = T), or back.
///
/// `T = s²` with `s` a parameter when `trainTime` is set (FFJORD's `train_T`), so that T stays
/// positive; gradients reach `s` through the time gradient of the solve.
public final class CNFBlock<Scalar: TensorScalar> {
    public let dynamics: CNFDynamics<Scalar>
    /// `√T`; a trainable leaf when `trainTime` is set.
    public let sqrtEndTime: Variable<Scalar>
    public let trainTime: Bool
    /// Forward-solve options (method, tolerances).
    public var options: ODEOptions
    /// Backward-pass method.
    public var gradient: GradientMethod

    public init(
        net: any CNFVectorField<Scalar>, estimator: TraceEstimator, timeLength: Double, trainTime: Bool,
        options: ODEOptions, gradient: GradientMethod
    ) {
        self.dynamics = CNFDynamics(net: net, estimator: estimator)
        self.sqrtEndTime = Variable(Tensor([Scalar(timeLength.squareRoot())]), requiresGradient: trainTime)
        self.trainTime = trainTime
        self.options = options
        self.gradient = gradient
    }

    /// The integration length T.
    public var endTime: Double { Double(sqrtEndTime.value.scalars[0] * sqrtEndTime.value.scalars[0]) }

    /// Parameters with names relative to the block.
    public var namedParameters: [(String, Variable<Scalar>)] {
        dynamics.net.namedParameters.map { ("odefunc.\($0.0)", $0.1) } + (trainTime ? [("sqrt_end_time", sqrtEndTime)] : [])
    }

    /// The result of integrating a batch through the block.
    public struct Output {
        public var z: Variable<Scalar>
        /// `Δ` at the end of the solve (so that log|det| of the transport is `−Δ`), [n, 1].
        public var deltaLogP: Variable<Scalar>
        public var kinetic: Variable<Scalar>?
        public var jacobian: Variable<Scalar>?
        public var stats: ODEStats
        public var backward: BackwardStats
    }

    /// Integrates `x` ([n, d]) from t = 0 to T (`reverse: false`, data → base) or from T to 0.
    /// `noise` is required for the Hutchinson estimator.
    public func run(
        _ x: Variable<Scalar>, reverse: Bool, noise: Tensor<Scalar>?, kinetic: Bool = false, jacobian: Bool = false
    ) throws -> Output {
        let n = x.shape[0]
        dynamics.noise = noise
        dynamics.kinetic = kinetic
        dynamics.jacobian = jacobian
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
}
