import LaminarAutodiff

/// How the divergence `tr(∂f/∂z)` in the instantaneous change of variables is computed.
public enum TraceEstimator: Sendable, Equatable {
    /// Exact: one vector–Jacobian product per dimension (cost d × a VJP). Default for small d.
    case exact
    /// Hutchinson's unbiased estimator `εᵀ (∂f/∂z) ε` with `E[εεᵀ] = I` (Hutchinson 1989;
    /// Grathwohl et al. 2019). The noise is drawn once per solve and held fixed during it.
    case hutchinson(HutchinsonNoise)

    /// Parses `exact`, `hutchinson` (Gaussian), `hutchinson-gaussian`, `hutchinson-rademacher`.
    public init?(name: String) {
        switch name {
        case "exact": self = .exact
        case "hutchinson", "hutchinson-gaussian", "gaussian": self = .hutchinson(.gaussian)
        case "hutchinson-rademacher", "rademacher": self = .hutchinson(.rademacher)
        default: return nil
        }
    }

    /// The canonical name (`exact`, `hutchinson-gaussian`, `hutchinson-rademacher`), as stored
    /// in configurations and accepted by ``init(name:)``.
    public var name: String {
        switch self {
        case .exact: return "exact"
        case .hutchinson(.gaussian): return "hutchinson-gaussian"
        case .hutchinson(.rademacher): return "hutchinson-rademacher"
        }
    }
}

extension TraceEstimator {
    /// This estimator as one solve over a batch of `rows` points of dimension `dimension` uses
    /// it: Hutchinson's draws its noise ([rows, dimension]) from `rng` once, here; the exact
    /// trace draws nothing (so `rng` is untouched).
    public func draw<S: TensorScalar>(rows: Int, dimension: Int, using rng: inout RandomGenerator) -> DrawnTraceEstimator<S> {
        switch self {
        case .exact: return .exact
        case .hutchinson(let kind): return .hutchinson(noise: kind.draw([rows, dimension], using: &rng))
        }
    }
}

/// A trace estimator bound to one solve: the exact trace, or Hutchinson's estimator with the
/// noise drawn for that solve and held fixed during it (so the solver integrates one smooth
/// ODE). Built by ``TraceEstimator/draw(rows:dimension:using:)`` and handed to
/// ``CNFBlock/run(_:reverse:trace:kinetic:jacobian:)``.
public enum DrawnTraceEstimator<Scalar: TensorScalar> {
    /// `tr(∂f/∂z)` from the d unit vectors (or the field's closed form).
    case exact
    /// `εᵀ(∂f/∂z)ε` for the noise `ε` ([n, d], one row per point of the batch).
    case hutchinson(noise: Tensor<Scalar>)

    /// The probe vectors for a batch of dimension `dimension`.
    public func probes(dimension: Int) -> DivergenceProbes<Scalar> {
        switch self {
        case .exact: return .exact(dimension: dimension)
        case .hutchinson(let noise): return .hutchinson(noise)
        }
    }
}

/// Noise distribution of the Hutchinson estimator.
public enum HutchinsonNoise: String, Sendable, Equatable, Codable {
    /// Standard normal entries.
    case gaussian
    /// Entries ±1 with probability ½ each (the smaller-variance choice for the trace).
    case rademacher

    /// Draws noise of `shape` (`[rows, …]`); in a data-parallel step, the shard's rows of the
    /// global batch's noise (see ``BatchShard/perRow(_:_:)``).
    public func draw<S: TensorScalar>(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor<S> {
        BatchShard.perRow(shape) { shape in
            switch self {
            case .gaussian: return .randomNormal(shape, using: &rng)
            case .rademacher: return .randomRademacher(shape, using: &rng)
            }
        }
    }
}

/// Divergence of a row-wise map and the squared Frobenius norm of its Jacobian (exact or
/// estimated), per row.
struct Divergence<S: TensorScalar> {
    /// `tr(∂f/∂z)` per row, shape [n, 1].
    var trace: Variable<S>
    /// `‖∂f/∂z‖²_F` per row ([n, 1]), or its Hutchinson estimate `‖εᵀ ∂f/∂z‖²`; nil if not asked.
    var frobenius: Variable<S>?
}

/// Computes the divergence of `f = net(z)` with respect to `z` ([n, d]); rows are independent,
/// so one VJP with a seed of shape [n, d] gives every row's product at once.
func divergence<S>(
    of f: Variable<S>, wrt z: Variable<S>, trace estimator: DrawnTraceEstimator<S>,
    frobenius: Bool, createGraph: Bool
) -> Divergence<S> {
    let n = z.shape[0], d = z.shape[1]
    switch estimator {
    case .exact:
        var trace: Variable<S>? = nil
        var frob: Variable<S>? = nil
        for i in 0..<d {
            var seed = Tensor<S>(zeros: [n, d])
            seed.withUnsafeMutableBufferPointer { buf in
                for r in 0..<n { buf[r * d + i] = 1 }
            }
            let row = gradients(of: [f], wrt: [z], seeds: [Variable(seed)], createGraph: createGraph)[0]
            let diag = row.slice(axis: 1, i..<(i + 1))
            trace = trace.map { $0 + diag } ?? diag
            if frobenius {
                let sq = square(row).sum(axes: [1], keepDims: true)
                frob = frob.map { $0 + sq } ?? sq
            }
        }
        return Divergence(trace: trace!, frobenius: frob)
    case .hutchinson(let noise):
        let e = Variable(noise)
        let eJ = gradients(of: [f], wrt: [z], seeds: [e], createGraph: createGraph)[0]
        let trace = (eJ * e).sum(axes: [1], keepDims: true)
        let frob = frobenius ? square(eJ).sum(axes: [1], keepDims: true) : nil
        return Divergence(trace: trace, frobenius: frob)
    }
}
