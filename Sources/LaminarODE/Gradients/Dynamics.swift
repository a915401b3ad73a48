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
    /// `dy/dt` on plain tensors with no graph recorded (forward solves of the adjoint, sampling,
    /// time gradients). The default evaluates ``callAsFunction(_:_:)``; dynamics with a faster
    /// graph-free form provide it here.
    func evaluate(_ t: Double, _ y: [Tensor<Scalar>]) -> [Tensor<Scalar>]
    /// The right-hand side of the adjoint's augmented system at `(t, y)`: `dy/dt` together with
    /// the vector–Jacobian products `sᵀ ∂f/∂y` and `sᵀ ∂f/∂θ` for the seeds `s` (one per state
    /// component) and the parameters θ = `parameters` (a subset of ``parameters``, in order).
    /// The default differentiates ``callAsFunction(_:_:)`` through a recorded graph.
    func pullback(
        _ t: Double, _ y: [Tensor<Scalar>], seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar>
}

/// `dy/dt` with its vector–Jacobian products (see ``Dynamics/pullback(_:_:seeds:parameters:)``).
public struct DynamicsPullback<Scalar: TensorScalar> {
    /// `dy/dt`, one tensor per state component.
    public var value: [Tensor<Scalar>]
    /// `sᵀ ∂f/∂y`, one per state component.
    public var stateGradients: [Tensor<Scalar>]
    /// `sᵀ ∂f/∂θ`, one per requested parameter.
    public var parameterGradients: [Tensor<Scalar>]

    /// A pullback from its three parts.
    public init(value: [Tensor<Scalar>], stateGradients: [Tensor<Scalar>], parameterGradients: [Tensor<Scalar>]) {
        self.value = value
        self.stateGradients = stateGradients
        self.parameterGradients = parameterGradients
    }
}

/// Dynamics from a closure (tests, small problems).
///
/// The closure on variables is what gradients differentiate. Forward-only solves (no gradient
/// needed: sampling, evaluation, the adjoint's forward pass) would otherwise evaluate it through
/// graph variables; give `plain`, the same right-hand side on tensors, to skip that cost.
///
/// ```swift
/// let decay = ClosureDynamics<Double>({ _, y in [-y[0]] }, plain: { _, y in [-y[0]] })
/// ```
public struct ClosureDynamics<Scalar: TensorScalar>: Dynamics {
    /// The leaves gradients are taken with respect to.
    public let parameters: [Variable<Scalar>]
    let body: (Variable<Scalar>, [Variable<Scalar>]) -> [Variable<Scalar>]
    let plain: ((Double, [Tensor<Scalar>]) -> [Tensor<Scalar>])?

    /// - Parameters:
    ///   - parameters: the leaves gradients are taken with respect to.
    ///   - body: `dy/dt` on variables.
    ///   - plain: the same `dy/dt` on tensors, used when no graph is recorded; nil evaluates
    ///     `body` without recording.
    public init(
        parameters: [Variable<Scalar>] = [],
        _ body: @escaping (Variable<Scalar>, [Variable<Scalar>]) -> [Variable<Scalar>],
        plain: ((Double, [Tensor<Scalar>]) -> [Tensor<Scalar>])? = nil
    ) {
        self.parameters = parameters
        self.body = body
        self.plain = plain
    }

    /// `body(t, y)`.
    public func callAsFunction(_ t: Variable<Scalar>, _ y: [Variable<Scalar>]) -> [Variable<Scalar>] {
        body(t, y)
    }

    /// `plain(t, y)` when given, otherwise `body` without recording a graph.
    public func evaluate(_ t: Double, _ y: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        plain?(t, y) ?? graphEvaluate(t, y)
    }
}

extension Dynamics {
    /// Default: ``graphEvaluate(_:_:)``.
    public func evaluate(_ t: Double, _ y: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        graphEvaluate(t, y)
    }

    /// Default: ``graphPullback(_:_:seeds:parameters:)``.
    public func pullback(
        _ t: Double, _ y: [Tensor<Scalar>], seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar> {
        graphPullback(t, y, seeds: seeds, parameters: parameters)
    }

    /// ``evaluate(_:_:)`` through ``callAsFunction(_:_:)`` with no graph recorded.
    public func graphEvaluate(_ t: Double, _ y: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        // A closure, not the key path `\.value`: a key path of a generic type is instantiated at
        // run time (demangled) on every call, which costs more than a small right-hand side.
        let body = { self(Variable(Tensor(Scalar(t))), y.map { Variable($0) }).map { $0.value } }
        // Setting the task-local recording flag costs more than a small right-hand side: only
        // when it is on (forward-only solves switch it off once for the whole solve).
        return GradientMode.isRecording ? withoutGradient(body) : body()
    }

    /// ``pullback(_:_:seeds:parameters:)`` by reverse-mode differentiation of
    /// ``callAsFunction(_:_:)``.
    public func graphPullback(
        _ t: Double, _ y: [Tensor<Scalar>], seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar> {
        withGradient {
            let state = y.map { Variable($0, requiresGradient: true) }
            let dy = self(Variable(Tensor(Scalar(t))), state)
            let vjps = gradients(of: dy, wrt: state + parameters, seeds: seeds.map { Variable($0) })
            return DynamicsPullback(
                value: dy.map(\.value), stateGradients: vjps.prefix(y.count).map(\.value),
                parameterGradients: vjps.dropFirst(y.count).map(\.value))
        }
    }
}
