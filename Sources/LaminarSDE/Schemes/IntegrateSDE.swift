import LaminarODE

/// States of an SDE solve at the requested times, and how the solve went.
public struct SDESolution<Y> {
    /// The output times, as requested.
    public var times: [Double]
    /// `states[k]` at `times[k]`; `states[0]` is the initial state.
    public var states: [Y]
    /// Steps and evaluations of the solve.
    public var stats: SDEStats
}

/// Integrates `dX = f(t, X) dt + g(t, X) dW` (or `∘ dW`, by the scheme's calculus) from `y0`
/// at `times[0]` through every time in `times` (strictly increasing, or strictly decreasing
/// for a backward solve on the same path), with fixed steps of at most `options.stepSize`.
///
/// The engine runs on any ``ODEState`` (tensors, tensor lists, recorded variables), as
/// LaminarODE's does, and its Runge–Kutta schemes are that module's `rungeKuttaStep` applied
/// to the Wong–Zakai field `f + g · ΔW/h` of each step.
///
/// - Parameters:
///   - drift: `f(t, X)`.
///   - noise: `g(t, X) · v` for a Brownian-shaped `v` (row-major values).
///   - field: optionally `f(t, X) + g(t, X) · v` in one evaluation (saves work when both share
///     a graph, as the adjoint's vector–Jacobian products do); composed from the two otherwise.
///   - brownian: the path; every step's increment is `W(t + h) − W(t)` from it.
/// - Throws: ``SDEError``.
public func integrateSDE<Y: ODEState>(
    drift: (Double, Y) throws -> Y,
    noise: (Double, Y, [Double]) throws -> Y,
    field: ((Double, Y, [Double]) throws -> Y)? = nil,
    y0: Y, times: [Double], brownian: any BrownianMotion, options: SDEOptions
) throws -> SDESolution<Y> {
    guard times.count >= 1, times.allSatisfy(\.isFinite) else {
        throw SDEError.invalidOptions("output times must be finite and at least one")
    }
    guard options.stepSize > 0, options.stepSize.isFinite else {
        throw SDEError.invalidOptions("the step size must be a positive number, got \(options.stepSize)")
    }
    let direction: Double = times.count > 1 && times[1] < times[0] ? -1 : 1
    for i in 1..<Swift.max(times.count, 1) where (times[i] - times[i - 1]) * direction <= 0 {
        throw SDEError.invalidOptions("output times must be strictly monotone; entry \(i) breaks the order")
    }
    for t in [times.first!, times.last!] where !brownian.covers(t, t) {
        throw SDEError.brownianSpan(t: t, t0: brownian.t0, t1: brownian.t1)
    }
    var stats = SDEStats()
    var solution = SDESolution(times: times, states: [y0], stats: stats)
    guard times.count > 1 else { return solution }
    guard y0.isFinite else { throw SDEError.nonFinite(t: times[0]) }
    func combined(_ t: Double, _ y: Y, _ v: [Double]) throws -> Y {
        if let field { return try field(t, y, v) }
        return Y.combine(try drift(t, y), [1], [try noise(t, y, v)])
    }
    var y = y0
    var wStart = brownian.value(at: times[0])
    stats.brownianQueries += 1
    for k in 1..<times.count {
        let span = times[k] - times[k - 1]
        let n = Swift.max(1, Int((Swift.abs(span) / options.stepSize - 1e-9).rounded(.up)))
        for j in 0..<n {
            stats.steps += 1
            if stats.steps > options.maxSteps { throw SDEError.maxStepsExceeded(steps: options.maxSteps) }
            let ta = times[k - 1] + span * Double(j) / Double(n)
            let tb = j == n - 1 ? times[k] : times[k - 1] + span * Double(j + 1) / Double(n)
            let h = tb - ta
            let wEnd = brownian.value(at: tb)
            stats.brownianQueries += 1
            var dW = wEnd
            for i in dW.indices { dW[i] -= wStart[i] }
            wStart = wEnd
            switch options.scheme.kind {
            case .rungeKutta(let tableau):
                let v = dW.map { $0 / h }
                y = try rungeKuttaStep({ t, x in try combined(t, x, v) }, tableau: tableau, t: ta, y: y, h: h, k1: nil).y1
                stats.driftEvaluations += tableau.stages
                stats.diffusionEvaluations += tableau.stages
            case .milstein:
                // Itô: X₁ = X + f h + g ΔW + (g(X̂) − g(X))·(ΔW² − h)/(2√h), X̂ = X + f h + g √h
                // (Kloeden & Platen 1992, (11.1.5)): the one-sided difference's O(√h) bias
                // multiplies a mean-zero factor. Stratonovich: X₁ = X + f h + g ΔW + ½ g g′ ΔW²,
                // whose factor ΔW² has a mean, so g g′ comes from a central difference
                // (g(X + g√h) − g(X − g√h))/(2√h) = g g′ + O(h).
                let root = Swift.abs(h).squareRoot()
                let f0 = try drift(ta, y)
                let spread = try noise(ta, y, [Double](repeating: root, count: dW.count))
                let first: Y, correction: Y
                if options.scheme.calculus == .ito {
                    let c = dW.map { ($0 * $0 - Swift.abs(h)) / (2 * root) }
                    let support = Y.combine(y, [h, 1], [f0, spread])
                    first = try noise(ta, y, zip(dW, c).map { $0 - $1 })
                    correction = try noise(ta, support, c)
                    stats.diffusionEvaluations += 3
                } else {
                    let c = dW.map { $0 * $0 / (4 * root) }
                    first = try noise(ta, y, dW)
                    let plus = try noise(ta, Y.combine(y, [1], [spread]), c)
                    let minus = try noise(ta, Y.combine(y, [-1], [spread]), c)
                    correction = Y.combine(plus, [-1], [minus])
                    stats.diffusionEvaluations += 4
                }
                y = Y.combine(y, [h, 1, 1], [f0, first, correction])
                stats.driftEvaluations += 1
            }
            guard y.isFinite else { throw SDEError.nonFinite(t: tb) }
        }
        solution.states.append(y)
    }
    solution.stats = stats
    return solution
}
