import LaminarAutodiff

/// Which stochastic integral `dW` means.
public enum SDECalculus: String, Sendable, Codable {
    /// `g(t, X) dW`: evaluated at the start of each step (Euler–Maruyama, Milstein).
    case ito
    /// `g(t, X) ∘ dW`: the midpoint rule; the calculus of ordinary chain rules, of the
    /// Wong–Zakai limit of smooth noise, and of the stochastic adjoint.
    case stratonovich
}

/// The structure of the diffusion `g(t, X)`.
public enum NoiseType: Sendable, Equatable {
    /// `g` has the state's shape and multiplies `dW` (of the state's shape) elementwise: one
    /// independent Brownian motion per state element, `g`'s element i depending on `Xᵢ` only
    /// (what Milstein's scheme assumes).
    case diagonal
    /// `g` has shape `state.shape + [m]` and acts on `dW` of shape `state.shape.dropLast() + [m]`
    /// by a matrix–vector product per batch row (rows of a `[B, d]` state are independent
    /// samples with their own m Brownian motions).
    case general(noise: Int)
}

/// A stochastic differential equation `dX = f(t, X; θ) dt + g(t, X; θ) dW` (or `∘ dW`) written
/// with variable operations, so solves through it can be differentiated (back-propagation
/// through the solver, or the stochastic adjoint).
///
/// The state is one tensor; a batch of independent paths is a leading batch axis.
public protocol SDEDynamics {
    associatedtype Scalar: TensorScalar
    /// Itô or Stratonovich: the solver checks that its scheme converges to this calculus.
    var calculus: SDECalculus { get }
    var noiseType: NoiseType { get }
    /// The parameters θ gradients are taken with respect to (leaves).
    var parameters: [Variable<Scalar>] { get }
    /// The drift `f(t, X)`: the state's shape. `t` is rank-0.
    func drift(_ t: Variable<Scalar>, _ x: Variable<Scalar>) -> Variable<Scalar>
    /// The diffusion `g(t, X)`: the state's shape (diagonal noise) or `shape + [m]` (general).
    func diffusion(_ t: Variable<Scalar>, _ x: Variable<Scalar>) -> Variable<Scalar>
}

extension SDEDynamics {
    /// Shape of the Brownian motion driving a state of `stateShape`.
    public func brownianShape(for stateShape: [Int]) -> [Int] {
        switch noiseType {
        case .diagonal: return stateShape
        case .general(let m): return Array(stateShape.dropLast()) + [m]
        }
    }

    /// `g · v`: elementwise for diagonal noise, a matrix–vector product per row for general.
    public func applyDiffusion(_ g: Variable<Scalar>, _ v: Variable<Scalar>) -> Variable<Scalar> {
        switch noiseType {
        case .diagonal: return g * v
        case .general: return (g * v.unsqueezed(at: v.rank - 1)).sum(axes: [g.rank - 1])
        }
    }

    /// `f(t, X)·1 + g(t, X)·v`, the right-hand side the Runge–Kutta schemes step with.
    public func field(_ t: Variable<Scalar>, _ x: Variable<Scalar>, _ v: Variable<Scalar>) -> Variable<Scalar> {
        drift(t, x) + applyDiffusion(diffusion(t, x), v)
    }
}

/// An SDE from two closures (tests, small problems).
public struct ClosureSDE<Scalar: TensorScalar>: SDEDynamics {
    /// The calculus (Itô or Stratonovich) in which `drift` and `diffusion` are written.
    public let calculus: SDECalculus
    /// The shape of the noise: how `diffusion`'s output multiplies a Brownian increment.
    public let noiseType: NoiseType
    /// The leaves gradients are taken with respect to (those the closures capture).
    public let parameters: [Variable<Scalar>]
    let f: (Variable<Scalar>, Variable<Scalar>) -> Variable<Scalar>
    let g: (Variable<Scalar>, Variable<Scalar>) -> Variable<Scalar>

    /// An SDE of `calculus` whose drift `f(t, X)` and diffusion `g(t, X)` are the closures; `parameters` are the leaves they capture.
    public init(
        calculus: SDECalculus, noise: NoiseType = .diagonal, parameters: [Variable<Scalar>] = [],
        drift: @escaping (Variable<Scalar>, Variable<Scalar>) -> Variable<Scalar>,
        diffusion: @escaping (Variable<Scalar>, Variable<Scalar>) -> Variable<Scalar>
    ) {
        self.calculus = calculus
        self.noiseType = noise
        self.parameters = parameters
        f = drift
        g = diffusion
    }

    /// `f(t, X)`, the drift closure.
    public func drift(_ t: Variable<Scalar>, _ x: Variable<Scalar>) -> Variable<Scalar> { f(t, x) }
    /// `g(t, X)`, the diffusion closure.
    public func diffusion(_ t: Variable<Scalar>, _ x: Variable<Scalar>) -> Variable<Scalar> { g(t, x) }
}
