import LaminarAutodiff
import LaminarODE

/// The augmented dynamics of a continuous normalizing flow for one solve (Chen et al. 2018,
/// Theorem 1; Grathwohl et al. 2019):
///
///     dz/dt = f(z, t; θ),   dΔ/dt = −tr(∂f/∂z)
///
/// and, when regularizing (Finlay et al. 2020, "How to train your neural ODE"),
/// `dK/dt = ‖f‖²` (kinetic energy) and `dJ/dt = ‖∂f/∂z‖²_F` (Jacobian Frobenius norm).
///
/// State components: `[z ([n, d]), Δ ([n, 1]), K ([n, 1])?, J ([n, 1])?]`. The trace estimator
/// (with its noise) and the regularizer states are fixed when the dynamics are built, once per
/// solve (``CNFBlock/dynamics(trace:kinetic:jacobian:)``); the field's parameters are shared.
public final class CNFDynamics<Scalar: TensorScalar>: Dynamics {
    /// The vector field `f(t, z)`.
    public let net: any CNFVectorField<Scalar>
    /// How the divergence is computed in this solve, with Hutchinson's noise ([n, d]).
    public let trace: DrawnTraceEstimator<Scalar>
    /// Whether the kinetic-energy state `K` is carried.
    public let kinetic: Bool
    /// Whether the Jacobian-Frobenius state `J` is carried.
    public let jacobian: Bool
    /// Function evaluations since the dynamics were built or last reset.
    public private(set) var evaluations = 0

    /// The augmented dynamics of `net` with the divergence from `trace` and the regularizer
    /// states `kinetic` and `jacobian`.
    public init(
        net: any CNFVectorField<Scalar>, trace: DrawnTraceEstimator<Scalar>, kinetic: Bool = false, jacobian: Bool = false
    ) {
        self.net = net
        self.trace = trace
        self.kinetic = kinetic
        self.jacobian = jacobian
    }

    /// The field's parameters θ (leaves).
    public var parameters: [Variable<Scalar>] { net.parameters }

    /// Number of state components: 2, plus one per carried regularizer.
    public var componentCount: Int { 2 + (kinetic ? 1 : 0) + (jacobian ? 1 : 0) }

    /// Sets ``evaluations`` to zero.
    public func resetEvaluations() { evaluations = 0 }

    /// `[f, −div, ‖f‖²?, ‖∂f/∂z‖²_F?]` at `(t, y)` on variables; differentiable (its divergence
    /// records its own graph) when a graph is being recorded.
    public func callAsFunction(_ t: Variable<Scalar>, _ y: [Variable<Scalar>]) -> [Variable<Scalar>] {
        evaluations += 1
        let z = y[0]
        if GradientMode.isRecording {
            // Inside a graph (backprop, or the adjoint's vector–Jacobian products): the
            // divergence must itself be differentiable, so its VJP records (createGraph).
            let zz = z.requiresGradient ? z : Variable(z.value, requiresGradient: true)
            return derivatives(t, zz, createGraph: true)
        }
        // Plain evaluation (forward solve of the adjoint, sampling): record locally just long
        // enough to take the divergence, then return constants.
        return withGradient {
            derivatives(t, Variable(z.value, requiresGradient: true), createGraph: false)
        }.map { $0.detached() }
    }

    /// The probes of the fused (graph-free) forms for a batch `z`, or nil when they do not
    /// apply (the Jacobian regularizer has no fused form).
    private func probes(for z: Tensor<Scalar>) -> DivergenceProbes<Scalar>? {
        jacobian ? nil : trace.probes(dimension: z.shape[1])
    }

    /// The right-hand side on plain tensors: the field's fused form when it has one, else the
    /// recorded graph.
    public func evaluate(_ t: Double, _ y: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        if let probes = probes(for: y[0]), let out = net.fusedDerivatives(t, y[0], probes: probes, kinetic: kinetic) {
            evaluations += 1
            return out
        }
        return graphEvaluate(t, y)
    }

    /// The adjoint's pullback: the field's fused form when it has one, else the recorded graph.
    public func pullback(
        _ t: Double, _ y: [Tensor<Scalar>], seeds: [Tensor<Scalar>], parameters: [Variable<Scalar>]
    ) -> DynamicsPullback<Scalar> {
        if let probes = probes(for: y[0]),
           let out = net.fusedPullback(t, y[0], probes: probes, kinetic: kinetic, seeds: seeds, parameters: parameters) {
            evaluations += 1
            return out
        }
        return graphPullback(t, y, seeds: seeds, parameters: parameters)
    }

    private func derivatives(_ t: Variable<Scalar>, _ z: Variable<Scalar>, createGraph: Bool) -> [Variable<Scalar>] {
        if case .exact = trace, !jacobian, let closed = net.valueAndDivergence(t, z) {
            var out = [closed.f, -closed.trace]
            if kinetic { out.append(square(closed.f).sum(axes: [1], keepDims: true)) }
            return out
        }
        let f = net(t, z)
        let div = divergence(of: f, wrt: z, trace: trace, frobenius: jacobian, createGraph: createGraph)
        var out = [f, -div.trace]
        if kinetic { out.append(square(f).sum(axes: [1], keepDims: true)) }
        if jacobian, let frob = div.frobenius { out.append(frob) }
        return out
    }
}
