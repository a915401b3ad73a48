import LaminarAutodiff

/// The right-hand side `f(t, z)` of a continuous normalizing flow, evaluated on a batch.
///
/// Every CNF in Laminar (FFJORD's MLP dynamics, the planar CNF) is a vector field plugged into
/// the same ``CNFDynamics`` and ``CNFBlock``, and so into the same solver and gradient core.
public protocol CNFVectorField<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// `f(t, z)` for `z` of shape [n, d] at time `t` (rank 0).
    func callAsFunction(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> Variable<Scalar>
    /// Parameters with stable dotted names (checkpoint keys).
    var namedParameters: [(String, Variable<Scalar>)] { get }
    /// `f` together with its divergence `tr(∂f/∂z)` ([n, 1]) in closed form, as differentiable
    /// variables; `nil` when the divergence has to come from vector–Jacobian products.
    func valueAndDivergence(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> (f: Variable<Scalar>, trace: Variable<Scalar>)?
}

extension CNFVectorField {
    public func valueAndDivergence(_ t: Variable<Scalar>, _ z: Variable<Scalar>) -> (f: Variable<Scalar>, trace: Variable<Scalar>)? {
        nil
    }

    /// Parameters in `namedParameters` order.
    public var parameters: [Variable<Scalar>] { namedParameters.map(\.1) }
}
