import Foundation

/// Test problems with exact solutions, as `[Double]` right-hand sides.
public struct ODEProblem: Sendable {
    /// Label for test messages.
    public let name: String
    /// The state at `t0`.
    public let y0: [Double]
    /// Start of the integration interval.
    public let t0: Double
    /// End of the integration interval.
    public let t1: Double
    /// The right-hand side `y′ = f(t, y)`, of `y0`'s length.
    public let f: @Sendable (Double, [Double]) -> [Double]
    /// The exact solution `y(t)`, to measure a solver's error against.
    public let exact: @Sendable (Double) -> [Double]

    /// `y' = −y`, `y(0) = 1`.
    public static let exponentialDecay = ODEProblem(
        name: "exponential decay", y0: [1], t0: 0, t1: 5, f: { _, y in [-y[0]] }, exact: { [exp(-$0)] })

    /// `y'' = −y` as `[x, v]`, `x(t) = sin t`.
    public static let harmonicOscillator = ODEProblem(
        name: "harmonic oscillator", y0: [0, 1], t0: 0, t1: 10, f: { _, y in [y[1], -y[0]] },
        exact: { [sin($0), cos($0)] })

    /// The Kepler two-body problem with eccentricity 0.5 over one period; the exact solution
    /// solves Kepler's equation `E − e sin E = t` by Newton's method.
    public static let kepler = ODEProblem(
        name: "Kepler e=0.5", y0: [0.5, 0, 0, (1.5 / 0.5).squareRoot()], t0: 0, t1: 2 * Double.pi,
        f: { _, y in
            let r3 = pow(y[0] * y[0] + y[1] * y[1], 1.5)
            return [y[2], y[3], -y[0] / r3, -y[1] / r3]
        },
        exact: { t in
            let e = 0.5
            var E = t
            for _ in 0..<60 { E -= (E - e * sin(E) - t) / (1 - e * cos(E)) }
            let s = (1 - e * e).squareRoot()
            let d = 1 - e * cos(E)
            return [cos(E) - e, s * sin(E), -sin(E) / d, s * cos(E) / d]
        })

    /// Every problem, for tests that run a solver on each.
    public static let all: [ODEProblem] = [.exponentialDecay, .harmonicOscillator, .kepler]
}

/// Maximum absolute difference of two vectors.
public func maxError(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}

/// Least-squares slope of `log y` against `log x`.
public func logLogSlope(_ x: [Double], _ y: [Double]) -> Double {
    let lx = x.map { log($0) }, ly = y.map { log($0) }
    let mx = lx.reduce(0, +) / Double(lx.count), my = ly.reduce(0, +) / Double(ly.count)
    var num = 0.0, den = 0.0
    for (a, b) in zip(lx, ly) {
        num += (a - mx) * (b - my)
        den += (a - mx) * (a - mx)
    }
    return num / den
}
