/// A Runge–Kutta method as data: the Butcher tableau, its order, and how it interpolates.
///
/// The initializer validates the numbers (rows of `a` sum to `c`, `Σb = 1`, `Σb̂ = 1`, shapes
/// agree) and derives ``isFSAL`` ("first same as last": the last stage is evaluated at the new
/// solution, so it is the next step's first stage) from them rather than trusting a flag.
public struct Tableau: Sendable, Equatable, CustomStringConvertible {
    /// Lower-case name, as on the command line and in checkpoints (`dopri5`, `rk4`, …).
    public let name: String
    /// Stage times (fractions of the step).
    public let c: [Double]
    /// Lower-triangular stage coefficients; row `i` has `i` entries.
    public let a: [[Double]]
    /// Weights of the propagated solution.
    public let b: [Double]
    /// Weights of the embedded solution (nil for fixed-step methods).
    public let bEmbedded: [Double]?
    /// Order of the propagated solution.
    public let order: Int
    /// Order of the embedded solution (0 for fixed-step methods).
    public let embeddedOrder: Int
    /// Whether the last stage equals `f(t + h, y₁)` (derived).
    public let isFSAL: Bool
    /// The dense-output scheme.
    public let interpolation: Interpolation

    /// How values between steps are computed.
    public enum Interpolation: Sendable, Equatable {
        /// Cubic Hermite from `y₀, y₁, f₀, f₁` (3rd order).
        case hermite
        /// Dormand–Prince 5(4)'s 4th-order continuous extension: a quartic through `y₀, y₁, f₀,
        /// f₁` and the midpoint value `y₀ + h Σ cᵢ kᵢ` (Shampine 1986).
        case quarticMidpoint([Double])
        /// DOP853's 7th-order continuous extension (Hairer, Nørsett & Wanner 1993, II.6).
        case dop853(DOP853DenseOutput)
        /// Tsitouras's 4th-order interpolant: `y(θ) = y₀ + h Σ bᵢ(θ) kᵢ` with the weight
        /// polynomials of Tsitouras 2011.
        case tsit5
    }

    /// Coefficients of DOP853's dense output: three extra stages (`extraA`, `extraC`, using
    /// the 12 stages and `f(t + h, y₁)`) and the matrix `d` (4 × 16) that combines all 16.
    public struct DOP853DenseOutput: Sendable, Equatable {
        /// Weights (4 × 16) combining the 12 stages, `f(t + h, y₁)` and the three extra stages into
        /// the interpolant's coefficients.
        public let d: [[Double]]
        /// Stage coefficients of the three extra stages (rows over the preceding stages).
        public let extraA: [[Double]]
        /// Stage times of the three extra stages (fractions of the step).
        public let extraC: [Double]
    }

    /// Builds and validates a tableau; traps on inconsistent numbers (tableaux are constants).
    public init(
        name: String, c: [Double], a: [[Double]], b: [Double], bEmbedded: [Double]? = nil,
        order: Int, embeddedOrder: Int = 0, interpolation: Interpolation = .hermite
    ) {
        let s = c.count
        precondition(a.count == s && b.count == s, "Tableau \(name): c, a and b need \(s) stages")
        for i in 0..<s {
            precondition(a[i].count == i, "Tableau \(name): row \(i) of a needs \(i) entries")
            let sum = a[i].reduce(0, +)
            precondition(Swift.abs(sum - c[i]) < 1e-12, "Tableau \(name): row \(i) of a sums to \(sum), not c = \(c[i])")
        }
        precondition(Swift.abs(b.reduce(0, +) - 1) < 1e-12, "Tableau \(name): Σb ≠ 1")
        if let bEmbedded {
            precondition(bEmbedded.count == s, "Tableau \(name): b̂ needs \(s) entries")
            precondition(Swift.abs(bEmbedded.reduce(0, +) - 1) < 1e-12, "Tableau \(name): Σb̂ ≠ 1")
        }
        self.name = name
        self.c = c
        self.a = a
        self.b = b
        self.bEmbedded = bEmbedded
        self.order = order
        self.embeddedOrder = embeddedOrder
        self.interpolation = interpolation
        // FSAL: the last stage is evaluated at t + h on y₀ + h Σ bⱼ kⱼ, and does not enter b.
        self.isFSAL = s > 1 && c[s - 1] == 1 && b[s - 1] == 0
            && zip(a[s - 1], b.prefix(s - 1)).allSatisfy { Swift.abs($0 - $1) < 1e-15 }
    }

    /// Number of stages.
    public var stages: Int { c.count }

    /// True for methods with an error estimate (step-size control).
    public var isAdaptive: Bool { bEmbedded != nil }

    /// The tableau's ``name``.
    public var description: String { name }

    /// All methods, adaptive first.
    public static let all: [Tableau] = [.dopri5, .tsit5, .bosh3, .fehlberg2, .dopri8, .euler, .midpoint, .rk4]

    /// The method called `name` (`dopri5`, `tsit5`, `bosh3`, `fehlberg2`, `dopri8`, `euler`,
    /// `midpoint`, `rk4`).
    public static func named(_ name: String) -> Tableau? {
        all.first { $0.name == name.lowercased() }
    }
}
