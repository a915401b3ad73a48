import LaminarAutodiff

/// A right-hand side `dy/dt = f(t, y; θ)` written with variable operations, so that the solver
/// core can differentiate it (vector–Jacobian products with respect to the state and the
/// parameters θ).
///
/// The state is a list of components (tensors of any shapes): a plain ODE has one, a CNF's
/// augmented state has `[z, Δlog p, kinetic, frobenius]`.
public protocol Dynamics {
    associatedtype Scalar: TensorScalar
    /// `dy/dt` at time `t` (rank-0) for the state components `y`; one derivative per component,
    /// of the same shape.
    func callAsFunction(_ t: Variable<Scalar>, _ y: [Variable<Scalar>]) -> [Variable<Scalar>]
    /// The parameters θ that gradients are taken with respect to (leaves).
    var parameters: [Variable<Scalar>] { get }
}

/// Dynamics from a closure (tests, small problems).
public struct ClosureDynamics<Scalar: TensorScalar>: Dynamics {
    public let parameters: [Variable<Scalar>]
    let body: (Variable<Scalar>, [Variable<Scalar>]) -> [Variable<Scalar>]

    public init(
        parameters: [Variable<Scalar>] = [],
        _ body: @escaping (Variable<Scalar>, [Variable<Scalar>]) -> [Variable<Scalar>]
    ) {
        self.parameters = parameters
        self.body = body
    }

    public func callAsFunction(_ t: Variable<Scalar>, _ y: [Variable<Scalar>]) -> [Variable<Scalar>] {
        body(t, y)
    }
}

extension Dynamics {
    /// Evaluates on plain tensors with no graph recorded.
    func evaluate(_ t: Double, _ y: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        withoutGradient {
            self(Variable(Tensor(Scalar(t))), y.map { Variable($0) }).map(\.value)
        }
    }
}
