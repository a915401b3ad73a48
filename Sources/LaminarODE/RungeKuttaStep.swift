/// One Runge–Kutta step: the new state, its error estimate and what dense output needs.
public struct RKStepResult<Y: ODEState> {
    /// Start time, signed step size and start state.
    public var t: Double
    public var h: Double
    public var y0: Y
    /// The propagated solution at `t + h`.
    public var y1: Y
    /// `h·Σ(bᵢ − b̂ᵢ)kᵢ` (nil for fixed-step methods).
    public var error: Y?
    /// The stage derivatives `kᵢ`.
    public var stages: [Y]
    /// `f(t + h, y1)`: the last stage of FSAL methods, otherwise filled on demand by
    /// ``completeEndDerivative(_:_:)``.
    public var f1: Y?
}

/// Takes one step of `tableau` from `(t, y)` with signed size `h`. `k1 = f(t, y)` may be passed
/// in (FSAL reuse); it is evaluated otherwise.
public func rungeKuttaStep<Y: ODEState>(
    _ f: (Double, Y) throws -> Y, tableau: Tableau, t: Double, y: Y, h: Double, k1: Y?
) throws -> RKStepResult<Y> {
    let s = tableau.stages
    var k: [Y] = []
    k.reserveCapacity(s)
    k.append(try k1 ?? f(t, y))
    var coefficients = [Double](repeating: 0, count: s)
    for i in 1..<s {
        let row = tableau.a[i]
        for j in 0..<i { coefficients[j] = h * row[j] }
        let yi = Y.combine(y, Array(coefficients[0..<i]), Array(k[0..<i]))
        k.append(try f(t + tableau.c[i] * h, yi))
    }
    let y1: Y
    if tableau.isFSAL {
        // The last stage was evaluated at y0 + h Σ aₛⱼ kⱼ = y0 + h Σ bⱼ kⱼ: recompute that state
        // the same way so that y1 is exactly the point where kₛ was taken.
        y1 = Y.combine(y, tableau.a[s - 1].map { h * $0 }, Array(k[0..<(s - 1)]))
    } else {
        y1 = Y.combine(y, tableau.b.map { h * $0 }, k)
    }
    var error: Y? = nil
    if let bHat = tableau.bEmbedded {
        let zero = Y.combine(y1, [-1], [y1])
        error = Y.combine(zero, zip(tableau.b, bHat).map { h * ($0 - $1) }, k)
    }
    return RKStepResult(
        t: t, h: h, y0: y, y1: y1, error: error, stages: k, f1: tableau.isFSAL ? k[s - 1] : nil)
}

/// Evaluates `f(t + h, y1)` when the method does not provide it (needed for Hermite
/// interpolation); returns whether an evaluation was spent.
@discardableResult
public func completeEndDerivative<Y: ODEState>(_ step: inout RKStepResult<Y>, _ f: (Double, Y) throws -> Y) throws -> Bool {
    guard step.f1 == nil else { return false }
    step.f1 = try f(step.t + step.h, step.y1)
    return true
}

/// Dense output: the state at `t + θ·h`, θ ∈ [0, 1], inside a step. Hermite interpolation needs
/// ``RKStepResult/f1`` (call ``completeEndDerivative(_:_:)`` first for non-FSAL methods).
public func interpolate<Y: ODEState>(_ step: RKStepResult<Y>, tableau: Tableau, theta: Double) -> Y {
    if theta == 1 { return step.y1 }
    if theta == 0 { return step.y0 }
    let h = step.h
    guard let f1 = step.f1 else {
        preconditionFailure("interpolate: f(t + h, y1) is needed; call completeEndDerivative first")
    }
    let f0 = step.stages[0]
    switch tableau.interpolation {
    case .hermite:
        let t2 = theta * theta, t3 = t2 * theta
        let h00 = 2 * t3 - 3 * t2 + 1
        let h10 = t3 - 2 * t2 + theta
        let h01 = -2 * t3 + 3 * t2
        let h11 = t3 - t2
        // y(θ) = h00·y0 + h01·y1 + h·(h10·f0 + h11·f1), written as y0 + (h01)(y1 − y0) + …
        return Y.combine(step.y0, [h01, -h01, h * h10, h * h11], [step.y1, step.y0, f0, f1])
    case .quarticMidpoint(let cMid):
        // Quartic through y0, y1, y_mid with slopes f0, f1 (Shampine 1986; torchdiffeq's
        // `_interp_fit`): p(θ) = (((aθ + b)θ + c)θ + d)θ + y0.
        let yMid = Y.combine(step.y0, cMid.map { h * $0 }, step.stages)
        let x = theta, x2 = x * x, x3 = x2 * x, x4 = x3 * x
        // Coefficients of y0, y1, yMid, f0, f1 in p(θ) − y0.
        let cy0 = -8 * x4 + 18 * x3 - 11 * x2
        let cy1 = -8 * x4 + 14 * x3 - 5 * x2
        let cym = 16 * x4 - 32 * x3 + 16 * x2
        let cf0 = h * (-2 * x4 + 5 * x3 - 4 * x2 + x)
        let cf1 = h * (2 * x4 - 3 * x3 + x2)
        return Y.combine(step.y0, [cy0, cy1, cym, cf0, cf1], [step.y0, step.y1, yMid, f0, f1])
    }
}
