/// One Runge–Kutta step: the new state, its error estimate and what dense output needs.
public struct RKStepResult<Y: ODEState> {
    /// Start time, signed step size and start state.
    public var t: Double
    /// Signed step size; the step ends at `t + h`.
    public var h: Double
    /// The state at `t`.
    public var y0: Y
    /// The propagated solution at `t + h`.
    public var y1: Y
    /// `h·Σ(bᵢ − b̂ᵢ)kᵢ` (nil for fixed-step methods).
    public var error: Y?
    /// The stage derivatives `kᵢ`.
    public var stages: [Y]
    /// `f(t + h, y1)`: the last stage of FSAL methods, otherwise filled on demand by
    /// ``prepareDenseOutput(_:tableau:_:)``.
    public var f1: Y?
    /// Extra stages some interpolants need (DOP853's three), filled by
    /// ``prepareDenseOutput(_:tableau:_:)``.
    public var extraStages: [Y] = []
}

/// Takes one step of `tableau` from `(t, y)` with signed size `h`. `k1 = f(t, y)` may be passed
/// in (FSAL reuse); it is evaluated otherwise.
@_specialize(where Y == TensorList<Float>)
@_specialize(where Y == TensorList<Double>)
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
        t: t, h: h, y0: y, y1: y1, error: error, stages: k, f1: tableau.isFSAL ? k[s - 1] : nil, extraStages: [])
}

/// Evaluates what dense output needs beyond the step itself: `f(t + h, y1)` for methods that
/// are not FSAL, and the extra stages of DOP853. Returns the number of evaluations spent.
@discardableResult
@_specialize(where Y == TensorList<Float>)
@_specialize(where Y == TensorList<Double>)
public func prepareDenseOutput<Y: ODEState>(
    _ step: inout RKStepResult<Y>, tableau: Tableau, _ f: (Double, Y) throws -> Y
) throws -> Int {
    var spent = 0
    if step.f1 == nil {
        step.f1 = try f(step.t + step.h, step.y1)
        spent += 1
    }
    if case .dop853(let dense) = tableau.interpolation, step.extraStages.isEmpty {
        var k = step.stages + [step.f1!]
        for (row, c) in zip(dense.extraA, dense.extraC) {
            let yi = Y.combine(step.y0, row.map { step.h * $0 }, Array(k[0..<row.count]))
            k.append(try f(step.t + c * step.h, yi))
            spent += 1
        }
        step.extraStages = Array(k[(step.stages.count + 1)...])
    }
    return spent
}

/// Dense output: the state at `t + θ·h`, θ ∈ [0, 1], inside a step. Call
/// ``prepareDenseOutput(_:tableau:_:)`` first (it is free for FSAL methods).
@_specialize(where Y == TensorList<Float>)
@_specialize(where Y == TensorList<Double>)
public func interpolate<Y: ODEState>(_ step: RKStepResult<Y>, tableau: Tableau, theta: Double) -> Y {
    if theta == 1 { return step.y1 }
    if theta == 0 { return step.y0 }
    let h = step.h
    guard let f1 = step.f1 else {
        preconditionFailure("interpolate: call prepareDenseOutput first")
    }
    let f0 = step.stages[0]
    switch tableau.interpolation {
    case .hermite:
        let t2 = theta * theta, t3 = t2 * theta
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
    case .tsit5:
        return Y.combine(step.y0, Tableau.tsit5Weights(theta).map { h * $0 }, step.stages)
    case .dop853(let dense):
        // y(θ) = y0 + Σᵢ wᵢ(θ) Fᵢ with F0 = Δy, F1 = h f0 − Δy, F2 = 2Δy − h(f1 + f0),
        // F3+j = h Σₛ D[j][s] Kₛ, and w = θ, θ(1−θ), θ²(1−θ), θ²(1−θ)², θ³(1−θ)², θ³(1−θ)³, θ⁴(1−θ)³.
        precondition(step.extraStages.count == dense.extraC.count, "interpolate: call prepareDenseOutput first")
        let x = theta, u = 1 - theta
        let w = [x, x * u, x * x * u, x * x * u * u, x * x * x * u * u, x * x * x * u * u * u, x * x * x * x * u * u * u]
        let k = step.stages + [f1] + step.extraStages
        var coefficients = [Double](repeating: 0, count: k.count)
        for j in 0..<4 {
            for s in 0..<k.count { coefficients[s] += h * w[3 + j] * dense.d[j][s] }
        }
        coefficients[0] += h * (w[1] - w[2])
        coefficients[step.stages.count] -= h * w[2]
        let cy = w[0] - w[1] + 2 * w[2]
        return Y.combine(step.y0, [cy, -cy] + coefficients, [step.y1, step.y0] + k)
    }
}
