/// Settings of a ``ResidualFlow``; stored in checkpoints as JSON.
public struct ResidualFlowConfiguration: Codable, Sendable, Equatable {
    /// Data dimension.
    public var dimension: Int
    /// Number of residual blocks K.
    public var depth: Int
    /// Hidden widths of each block's network `g`, e.g. `[64, 64]`.
    public var hidden: [Int]
    /// Lipschitz bound c < 1 of every spectrally normalised layer (so Lip(g) ≤ c).
    public var lipschitz: Double
    /// Power iterations per training step for every layer's spectral norm.
    public var powerIterations: Int
    /// Training log-determinant: `unbiased` (Russian roulette, Chen et al. 2019), `truncated`
    /// (the first `terms` terms of the power series, biased), or `exact` (LU of I + J, d ≤ 8).
    public var logDeterminant: String
    /// Russian roulette: terms always computed; truncated: number of terms.
    public var terms: Int
    /// Russian roulette: success probability p of the geometric number of extra terms.
    public var geometricP: Double
    /// Traces in the power series: `exact` (d unit probes, default for d ≤ 8) or `hutchinson`
    /// (one Gaussian probe per block and step).
    public var trace: String
    /// Fixed-point inversion: tolerance on max |x_{m+1} − x_m|.
    public var inverseTolerance: Double
    /// Fixed-point inversion: the iteration limit before ``ResidualFlowError/inverseDidNotConverge(block:iterations:change:)``.
    public var inverseIterations: Int

    /// Names ``logDeterminant`` accepts.
    public static let logDeterminantNames = ["unbiased", "truncated", "exact"]
    /// Largest dimension for which the exact Jacobian (d probes, LU) is used by default.
    public static let exactDimensionLimit = 8

    /// Settings for d-dimensional data; `trace` nil picks `exact` for d ≤ ``exactDimensionLimit``, else `hutchinson`.
    public init(
        dimension: Int, depth: Int = 8, hidden: [Int] = [64, 64], lipschitz: Double = 0.98, powerIterations: Int = 1,
        logDeterminant: String = "unbiased", terms: Int = 2, geometricP: Double = 0.5, trace: String? = nil,
        inverseTolerance: Double = 1e-5, inverseIterations: Int = 2_000
    ) {
        self.dimension = dimension
        self.depth = depth
        self.hidden = hidden
        self.lipschitz = lipschitz
        self.powerIterations = powerIterations
        self.logDeterminant = logDeterminant
        self.terms = terms
        self.geometricP = geometricP
        self.trace = trace ?? (dimension <= Self.exactDimensionLimit ? "exact" : "hutchinson")
        self.inverseTolerance = inverseTolerance
        self.inverseIterations = inverseIterations
    }

    /// Checks every field; the message names the field and the accepted values.
    public func validate() throws {
        func fail(_ s: String) -> FlowError { .invalidConfiguration(s) }
        guard dimension >= 1 else { throw fail("dimension must be ≥ 1, got \(dimension)") }
        guard depth >= 1 else { throw fail("residual flow depth K must be ≥ 1, got \(depth)") }
        guard !hidden.isEmpty, hidden.allSatisfy({ $0 > 0 }) else {
            throw fail("hidden widths must be positive, e.g. 64-64; got \(hidden)")
        }
        guard lipschitz > 0, lipschitz < 1 else {
            throw fail("the Lipschitz coefficient must lie in (0, 1) for the blocks to be invertible, got \(lipschitz)")
        }
        guard powerIterations >= 0, powerIterations <= 1_000 else {
            throw fail("power iterations must be in 0…1000, got \(powerIterations)")
        }
        guard Self.logDeterminantNames.contains(logDeterminant) else {
            throw fail("log-determinant '\(logDeterminant)' unknown; use \(Self.logDeterminantNames.joined(separator: ", "))")
        }
        guard terms >= 1, terms <= 1_000 else { throw fail("power-series terms must be in 1…1000, got \(terms)") }
        guard geometricP > 0, geometricP < 1 else { throw fail("the geometric p must lie in (0, 1), got \(geometricP)") }
        guard trace == "exact" || trace == "hutchinson" else {
            throw fail("trace '\(trace)' unknown for the residual flow; use exact or hutchinson")
        }
        if logDeterminant == "exact" || trace == "exact" {
            guard dimension <= 64 else {
                throw fail("the exact Jacobian costs d vector–Jacobian products per block; with d = \(dimension) use the unbiased estimator with the Hutchinson trace")
            }
        }
        guard inverseTolerance > 0, inverseTolerance.isFinite else {
            throw fail("the inverse tolerance must be positive, got \(inverseTolerance)")
        }
        guard inverseIterations >= 1 else { throw fail("inverse iterations must be ≥ 1, got \(inverseIterations)") }
    }
}
