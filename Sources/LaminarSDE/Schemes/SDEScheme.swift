import LaminarODE

/// An SDE scheme as data.
///
/// Most schemes are a Runge–Kutta tableau run by LaminarODE's stepping engine on the step's
/// Wong–Zakai field `F(t, X) = f(t, X) + g(t, X) · ΔW/h` (the Brownian increment spread evenly
/// over the step): the one-stage tableau evaluates `g` at the step's start and gives the Itô
/// Euler–Maruyama scheme; the two-stage midpoint and Heun tableaus average `g` over the step
/// and converge to the Stratonovich solution. Milstein adds the derivative-free correction
/// term that no tableau of this form carries.
///
/// Orders (strong: `E|X_T − X_T^h| = O(h^p)`; weak: `|E φ(X_T) − E φ(X_T^h)| = O(h^q)`), for
/// diagonal or additive noise; with general non-commuting noise every scheme here is of strong
/// order 0.5 (none samples Lévy areas).
public struct SDEScheme: Sendable, Equatable, CustomStringConvertible {
    /// How a step is computed.
    public enum Kind: Sendable, Equatable {
        /// A tableau on the Wong–Zakai field.
        case rungeKutta(Tableau)
        /// Derivative-free Milstein (Rößler's form, Kloeden & Platen 1992 §11.1): diagonal noise.
        case milstein
    }

    /// Name on the command line and in checkpoints (`euler`, `milstein`, `midpoint`, `heun`, …).
    public let name: String
    /// How a step is computed.
    public let kind: Kind
    /// The calculus whose solution the scheme converges to.
    public let calculus: SDECalculus
    /// Strong order with diagonal noise.
    public let strongOrder: Double
    /// Strong order with additive noise (g independent of X).
    public let additiveStrongOrder: Double
    /// Weak order (convergence of expectations of smooth functions of X_T).
    public let weakOrder: Double

    /// The scheme's ``name``.
    public var description: String { name }

    /// Euler–Maruyama (Maruyama 1955): Itô, strong order 0.5 (1.0 for additive noise), weak 1.
    public static let eulerMaruyama = SDEScheme(
        name: "euler", kind: .rungeKutta(.euler), calculus: .ito, strongOrder: 0.5, additiveStrongOrder: 1,
        weakOrder: 1)
    /// Milstein (1974), derivative-free: Itô, diagonal noise, strong order 1, weak 1.
    public static let milstein = SDEScheme(
        name: "milstein", kind: .milstein, calculus: .ito, strongOrder: 1, additiveStrongOrder: 1, weakOrder: 1)
    /// Milstein for Stratonovich SDEs (the correction uses ΔW² instead of ΔW² − h).
    public static let milsteinStratonovich = SDEScheme(
        name: "milstein-stratonovich", kind: .milstein, calculus: .stratonovich, strongOrder: 1,
        additiveStrongOrder: 1, weakOrder: 1)
    /// Stochastic Heun (predictor–corrector trapezoid): Stratonovich, strong order 1 for
    /// commutative noise, weak 1.
    public static let heun = SDEScheme(
        name: "heun", kind: .rungeKutta(.heun), calculus: .stratonovich, strongOrder: 1, additiveStrongOrder: 1,
        weakOrder: 1)
    /// Stochastic midpoint: Stratonovich, strong order 1 for commutative noise, weak 1.
    public static let midpoint = SDEScheme(
        name: "midpoint", kind: .rungeKutta(.midpoint), calculus: .stratonovich, strongOrder: 1,
        additiveStrongOrder: 1, weakOrder: 1)

    /// Every scheme (tests and messages iterate over it).
    public static let all: [SDEScheme] = [.eulerMaruyama, .milstein, .milsteinStratonovich, .heun, .midpoint]

    /// The scheme with this command-line name.
    public static func named(_ name: String) -> SDEScheme? { all.first { $0.name == name } }
}

extension Tableau {
    /// Heun's trapezoidal predictor–corrector, order 2 (the stochastic Heun scheme's tableau).
    public static let heun = Tableau(name: "heun", c: [0, 1], a: [[], [1]], b: [0.5, 0.5], order: 2)
}
