import LaminarNN
import LaminarSDE

/// Diagonal diffusion `g(z)` in (0, 1): latent dimension i has its own 1 → H → 1 network of
/// zᵢ alone (so the noise is diagonal in the sense Milstein and the KL term need), a tanh
/// hidden layer and a sigmoid output (Li et al. 2020, Appendix: per-dimension diffusions).
final class DiagonalDiffusion<Scalar: TensorScalar>: Layer {
    let w1: Variable<Scalar>, b1: Variable<Scalar>, w2: Variable<Scalar>, b2: Variable<Scalar>

    init(latent: Int, hidden: Int, using rng: inout RandomGenerator) {
        w1 = Variable(Tensor.randomNormal([latent, hidden], using: &rng), requiresGradient: true)
        b1 = Variable(Tensor.randomNormal([latent, hidden], using: &rng) * Scalar(0.5), requiresGradient: true)
        w2 = Variable(Tensor.randomNormal([latent, hidden], using: &rng) * Scalar(1 / Double(hidden).squareRoot()), requiresGradient: true)
        b2 = Variable(Tensor(zeros: [latent]), requiresGradient: true)
    }

    var namedParameters: [(String, Variable<Scalar>)] { [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)] }

    /// `g(z)` for z of shape [B, L].
    func callAsFunction(_ z: Variable<Scalar>) -> Variable<Scalar> {
        let hidden = tanh(z.unsqueezed(at: 2) * w1 + b1)          // [B, L, H]
        return sigmoid((hidden * w2).sum(axes: [2]) + b2)          // [B, L]
    }
}

/// The latent SDE's posterior system on the augmented state `[z, KL, c]` ([B, L + 1 + C]):
///
///     dz  = f_φ(z, c) dt + g(z) dW      (posterior drift, conditioned on the context c)
///     dKL = ½ |u|² dt,  u = (f_φ(z, c) − h_θ(z)) / g(z)
///     dc  = 0
///
/// KL accumulates the path-space KL divergence between the posterior and the prior
/// `dz = h_θ(z) dt + g(z) dW` (Girsanov; Li et al. 2020, §5, eq. 13). The context travels in the
/// state so that the stochastic adjoint returns its gradient with the initial state's.
struct LatentSDEDynamics<Scalar: TensorScalar>: SDEDynamics {
    let posteriorDrift: SmallMLP<Scalar>
    let priorDrift: SmallMLP<Scalar>
    let diffusionNet: DiagonalDiffusion<Scalar>
    let latent: Int
    let context: Int
    let calculus: SDECalculus

    var noiseType: NoiseType { .diagonal }
    var parameters: [Variable<Scalar>] { posteriorDrift.parameters + priorDrift.parameters + diffusionNet.parameters }

    func split(_ x: Variable<Scalar>) -> (z: Variable<Scalar>, c: Variable<Scalar>) {
        (x.slice(axis: 1, 0..<latent), x.slice(axis: 1, (latent + 1)..<(latent + 1 + context)))
    }

    func drift(_ t: Variable<Scalar>, _ x: Variable<Scalar>) -> Variable<Scalar> {
        let (z, c) = split(x)
        let f = posteriorDrift(Variable.concatenate([z, c], axis: 1))
        let u = (f - priorDrift(z)) / diffusionNet(z)
        let kl = square(u).sum(axes: [1], keepDims: true) * Scalar(0.5)
        return Variable.concatenate([f, kl, Variable(Tensor(zeros: [x.shape[0], context]))], axis: 1)
    }

    func diffusion(_ t: Variable<Scalar>, _ x: Variable<Scalar>) -> Variable<Scalar> {
        let (z, _) = split(x)
        return Variable.concatenate([diffusionNet(z), Variable(Tensor(zeros: [x.shape[0], 1 + context]))], axis: 1)
    }

    /// The prior SDE on z alone (sampling from the model without data).
    var prior: ClosureSDE<Scalar> {
        let (h, g) = (priorDrift, diffusionNet)
        return ClosureSDE(calculus: calculus, drift: { _, z in h(z) }, diffusion: { _, z in g(z) })
    }
}
