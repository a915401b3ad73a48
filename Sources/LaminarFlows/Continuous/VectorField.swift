import LaminarAutodiff
import LaminarODE

/// The right-hand side `f(t, z)` of a continuous normalizing flow, evaluated on a batch.
///
/// Every CNF in Laminar (FFJORD's MLP dynamics, the planar CNF) is a vector field plugged into
/// the same ``CNFDynamics`` and ``CNFBlock``, and so into the same solver and gradient core.
public protocol CNFVectorField<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// `f(t, z)` for `z` of shape [n, d] at time `t` (rank 0).
    func callAsFunction(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar>
    /// `f(t_i, z_i)` with one time per row (`t` [n, 1]), for flow matching; default: one
    /// evaluation per row.
    func callAsFunction(rowTimes t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar>
    /// Parameters with stable dotted names (checkpoint keys).
    var namedParameters: [(String, Variable<Scalar>)] { get }
    /// `f` together with its divergence `tr(∂f/∂z)` ([n, 1]) in closed form, as differentiable
    /// variables; `nil` when the divergence has to come from vector–Jacobian products.
    func valueAndDivergence(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> (f: Variable<Scalar>, trace: Variable<Scalar>)?
    /// The augmented right-hand side `[f, −div, ‖f‖²?]` computed without a graph, or nil when
    /// the field has no such form (then ``CNFDynamics`` differentiates through the graph).
    func fusedDerivatives(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool
    ) -> [Tensor<Scalar>]?
    /// The adjoint's pullback of that right-hand side for the seeds `[s_z, s_Δ, s_K?]`, or nil.
    func fusedPullback(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool,
        seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar>?
}

extension CNFVectorField {
    /// Default: one evaluation of `f(t_i, z_i)` per row.
    public func callAsFunction(rowTimes t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar> {
        rowByRow(t, z) { ti, zi in self(ti, zi) }
    }

    /// Default: nil (the divergence comes from vector–Jacobian products).
    public func valueAndDivergence(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> (f: Variable<Scalar>, trace: Variable<Scalar>)? {
        nil
    }

    /// Default: nil (the dynamics evaluate through the recorded graph).
    public func fusedDerivatives(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool
    ) -> [Tensor<Scalar>]? {
        nil
    }

    /// Default: nil (the adjoint's pullback goes through the recorded graph).
    public func fusedPullback(
        _ t: Double, _ z: Tensor<Scalar>, probes: DivergenceProbes<Scalar>, kinetic: Bool,
        seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar>? {
        nil
    }

    /// Parameters in `namedParameters` order.
    public var parameters: [Variable<Scalar>] { namedParameters.map(\.1) }
}
