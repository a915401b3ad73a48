import LaminarAutodiff
import LaminarODE

/// The augmented dynamics of a continuous normalizing flow (Chen et al. 2018, Theorem 1;
/// Grathwohl et al. 2019):
///
///     dz/dt = f(z, t; θ),   dΔ/dt = −tr(∂f/∂z)
///
/// and, when regularizing (Finlay et al. 2020, "How to train your neural ODE"),
/// `dK/dt = ‖f‖²` (kinetic energy) and `dJ/dt = ‖∂f/∂z‖²_F` (Jacobian Frobenius norm).
///
/// State components: `[z ([n, d]), Δ ([n, 1]), K ([n, 1])?, J ([n, 1])?]`.
public final class CNFDynamics<Scalar: TensorScalar>: Dynamics {
    /// The vector field `f(t, z)`.
    public let net: any CNFVectorField<Scalar>
    /// How the divergence is computed.
    public var estimator: TraceEstimator
    /// Hutchinson noise for the current solve ([n, d]); drawn by the caller once per solve.
    public var noise: Tensor<Scalar>?
    /// Whether the regularizer states are carried.
    public var kinetic = false
    public var jacobian = false
    /// Function evaluations since the last reset.
    public private(set) var evaluations = 0

    public init(net: any CNFVectorField<Scalar>, estimator: TraceEstimator) {
        self.net = net
        self.estimator = estimator
    }

    public var parameters: [Variable<Scalar>] { net.parameters }

    /// Number of state components for the current regularizer settings.
    public var componentCount: Int { 2 + (kinetic ? 1 : 0) + (jacobian ? 1 : 0) }

    public func resetEvaluations() { evaluations = 0 }

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
    /// apply (Jacobian regularizer, or Hutchinson without noise).
    private func probes(for z: Tensor<Scalar>) -> DivergenceProbes<Scalar>? {
        guard !jacobian else { return nil }
        switch estimator {
        case .exact: return .exact(dimension: z.shape[1])
        case .hutchinson: return noise.map { .hutchinson($0) }
        }
    }

    public func evaluate(_ t: Double, _ y: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        if let probes = probes(for: y[0]), let out = net.fusedDerivatives(t, y[0], probes: probes, kinetic: kinetic) {
            evaluations += 1
            return out
        }
        return graphEvaluate(t, y)
    }

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
        if case .exact = estimator, !jacobian, let closed = net.valueAndDivergence(t, z) {
            var out = [closed.f, -closed.trace]
            if kinetic { out.append(square(closed.f).sum(axes: [1], keepDims: true)) }
            return out
        }
        let f = net(t, z)
        let div = divergence(
            of: f, wrt: z, estimator: estimator, noise: noise, frobenius: jacobian, createGraph: createGraph)
        var out = [f, -div.trace]
        if kinetic { out.append(square(f).sum(axes: [1], keepDims: true)) }
        if jacobian, let frob = div.frobenius { out.append(frob) }
        return out
    }
}
