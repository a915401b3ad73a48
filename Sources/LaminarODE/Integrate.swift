import Foundation

/// An accepted step: it starts at `(t, y)` and has signed size `h`.
public struct StepRecord<Y> {
    /// Start time of the step.
    public var t: Double
    /// Signed step size (negative when integrating backwards); the step ends at `t + h`.
    public var h: Double
    /// State at `t`.
    public var y: Y
}

/// States at the requested times, and how the solve went.
public struct ODESolution<Y> {
    /// The output times, as requested.
    public var times: [Double]
    /// `states[k]` is the state at `times[k]`; `states[0]` is the initial state.
    public var states: [Y]
    /// Evaluations of the right-hand side and accepted/rejected steps of this solve.
    public var stats: ODEStats
    /// Every accepted step, in order, when `recordSteps` was set.
    public var steps: [StepRecord<Y>]?
}

/// Integrates `dy/dt = f(t, y)` from `y0` at `times[0]` through every time in `times` (strictly
/// increasing, or strictly decreasing to integrate backwards).
///
/// Adaptive methods control the local error with the mixed test
/// `‖e / (atol + rtol·max(|y₀|, |y₁|))‖ ≤ 1` (Hairer, Nørsett & Wanner 1993, II.4), choose the
/// first step automatically, adapt the step with a PI controller, reuse the last stage of FSAL
/// methods, and produce output times by dense output without forcing steps onto them.
/// Fixed-step methods step with `options.stepSize` (or on `options.grid`) and interpolate.
///
/// - Throws: ``ODEError``: step-size underflow, non-finite state or derivative, too many steps,
///   non-monotone times, invalid options.
@_specialize(where Y == TensorList<Float>)
@_specialize(where Y == TensorList<Double>)
public func integrate<Y: ODEState>(
    _ f: (Double, Y) throws -> Y, y0: Y, times: [Double], options: ODEOptions = ODEOptions(),
    recordSteps: Bool = false
) throws -> ODESolution<Y> {
    guard !times.isEmpty else { throw ODEError.invalidOptions("no output times") }
    guard times.allSatisfy(\.isFinite) else { throw ODEError.invalidOptions("output times must be finite") }
    let direction: Double = times.count > 1 && times[1] < times[0] ? -1 : 1
    for i in 1..<Swift.max(times.count, 1) where (times[i] - times[i - 1]) * direction <= 0 {
        throw ODEError.nonMonotoneTimes(index: i)
    }
    guard options.rtol >= 0, options.atol >= 0, options.rtol + options.atol > 0,
          options.rtol.isFinite, options.atol.isFinite else {
        throw ODEError.invalidOptions("tolerances must be non-negative and not both zero (rtol \(options.rtol), atol \(options.atol))")
    }
    var stats = ODEStats()
    var solution = ODESolution(times: times, states: [y0], stats: stats, steps: recordSteps ? [] : nil)
    guard times.count > 1 else { return solution }
    guard y0.isFinite else { throw ODEError.nonFinite(t: times[0]) }
    var nfe = 0
    func counted(_ t: Double, _ y: Y) throws -> Y {
        nfe += 1
        let dy = try f(t, y)
        if nfe == 1, let difference = y0.shapeDifference(dy) {
            throw ODEError.stateShapeMismatch(t: t, detail: difference)
        }
        return dy
    }
    if options.method.isAdaptive {
        try integrateAdaptive(counted, y0: y0, times: times, direction: direction, options: options,
                              stats: &stats, solution: &solution)
    } else {
        try integrateFixed(counted, y0: y0, times: times, direction: direction, options: options,
                           stats: &stats, solution: &solution)
    }
    stats.nfe = nfe
    solution.stats = stats
    return solution
}

@_specialize(where Y == TensorList<Float>)
@_specialize(where Y == TensorList<Double>)
private func integrateAdaptive<Y: ODEState>(
    _ f: (Double, Y) throws -> Y, y0: Y, times: [Double], direction: Double, options: ODEOptions,
    stats: inout ODEStats, solution: inout ODESolution<Y>
) throws {
    let tableau = options.method
    let tEnd = times[times.count - 1]
    var t = times[0]
    var y = y0
    var k1: Y? = try f(t, y)
    guard k1!.isFinite else { throw ODEError.nonFinite(t: t) }
    var h: Double
    if let first = options.firstStep {
        guard first > 0 else { throw ODEError.invalidOptions("firstStep must be > 0") }
        h = direction * first
    } else {
        h = try initialStep(f, t0: t, y0: y, f0: k1!, direction: direction, order: tableau.order, options: options)
    }
    h = direction * Swift.min(Swift.abs(h), Swift.abs(tEnd - t))
    let exponent = 1 / Double(Swift.min(tableau.order, tableau.embeddedOrder) + 1)
    var previousError = 1e-4
    var next = 1
    var steps = 0
    while next < times.count {
        steps += 1
        if steps > options.maxSteps { throw ODEError.maxStepsExceeded(t: t, steps: options.maxSteps) }
        // Never step past the final time; land exactly on it.
        var hitsEnd = false
        let unclamped = h
        if (t + h - tEnd) * direction >= 0 {
            h = tEnd - t
            hitsEnd = true
        }
        if Swift.abs(h) <= 4 * Swift.max(t.ulp, tEnd.ulp, Double.leastNormalMagnitude) {
            // What is left of the interval is below the resolution of t itself (output times
            // a few ulps apart, as shifted real-world time stamps give): the state cannot
            // change measurably over it, so the remaining outputs are the current state.
            guard hitsEnd else { throw ODEError.stepSizeUnderflow(t: t, h: h) }
            while next < times.count {
                solution.states.append(y)
                next += 1
            }
            break
        }
        var step = try rungeKuttaStep(f, tableau: tableau, t: t, y: y, h: h, k1: k1)
        let finite = step.y1.isFinite
        let ratio = finite
            ? options.norm(Y.errorComponents(error: step.error!, y0: y, y1: step.y1, rtol: options.rtol, atol: options.atol))
            : Double.infinity
        if ratio <= 1 {
            stats.acceptedSteps += 1
            stats.finalStepSize = h
            solution.steps?.append(StepRecord(t: t, h: h, y: y))
            let tNew = hitsEnd ? tEnd : t + h
            while next < times.count && (times[next] - tNew) * direction <= 0 {
                if times[next] == tNew {
                    solution.states.append(step.y1)
                } else {
                    try prepareDenseOutput(&step, tableau: options.method, f)
                    solution.states.append(interpolate(step, tableau: tableau, theta: (times[next] - t) / h))
                }
                next += 1
            }
            t = tNew
            y = step.y1
            k1 = step.f1
            if let k1, !k1.isFinite { throw ODEError.nonFinite(t: t) }
            // PI control (Hairer's DOPRI5 stabilisation): fac = err^(−α) · errₚᵣₑᵥ^β.
            let alpha = exponent - 0.75 * options.beta
            var factor = options.safety * Foundation.pow(Swift.max(ratio, 1e-10), -alpha)
                * Foundation.pow(previousError, options.beta)
            factor = Swift.min(options.maxFactor, Swift.max(options.minFactor, factor))
            previousError = Swift.max(ratio, 1e-4)
            h *= factor
            stats.proposedStepSize = hitsEnd ? direction * Swift.max(Swift.abs(unclamped), Swift.abs(h)) : h
        } else {
            stats.rejectedSteps += 1
            if !finite && Swift.abs(h) <= 1e-10 * Swift.max(1, Swift.abs(t)) {
                throw ODEError.nonFinite(t: t)
            }
            let factor = ratio.isFinite
                ? Swift.max(options.minFactor, options.safety * Foundation.pow(ratio, -exponent))
                : options.minFactor
            h *= Swift.min(1, factor)
            k1 = step.stages[0]
        }
    }
}

private func integrateFixed<Y: ODEState>(
    _ f: (Double, Y) throws -> Y, y0: Y, times: [Double], direction: Double, options: ODEOptions,
    stats: inout ODEStats, solution: inout ODESolution<Y>
) throws {
    let t0 = times[0], tEnd = times[times.count - 1]
    var grid: [Double]
    if let g = options.grid {
        guard g.count >= 2, g.first == t0, g.last == tEnd else {
            throw ODEError.invalidOptions("the grid must start at the first output time (\(t0)) and end at the last (\(tEnd))")
        }
        for i in 1..<g.count where (g[i] - g[i - 1]) * direction <= 0 {
            throw ODEError.invalidOptions("the grid must be strictly monotone in the direction of integration (entry \(i))")
        }
        grid = g
    } else {
        guard let hAbs = options.stepSize, hAbs > 0, hAbs.isFinite else {
            throw ODEError.invalidOptions("fixed-step method \(options.method.name) needs stepSize > 0 or a grid")
        }
        let n = Swift.max(1, Int((Swift.abs(tEnd - t0) / hAbs - 1e-9).rounded(.up)))
        guard n <= options.maxSteps else { throw ODEError.maxStepsExceeded(t: t0, steps: options.maxSteps) }
        grid = (0...n).map { i in i == n ? tEnd : t0 + direction * hAbs * Double(i) }
        // A last step shorter than a rounding error would be degenerate: merge it.
        if grid.count > 2 && Swift.abs(grid[grid.count - 1] - grid[grid.count - 2]) < 1e-12 * Swift.max(1, Swift.abs(tEnd)) {
            grid.remove(at: grid.count - 2)
        }
    }
    var y = y0
    var k1: Y? = nil
    var next = 1
    for i in 1..<grid.count {
        let t = grid[i - 1], h = grid[i] - t
        var step = try rungeKuttaStep(f, tableau: options.method, t: t, y: y, h: h, k1: k1)
        guard step.y1.isFinite else { throw ODEError.nonFinite(t: t) }
        stats.acceptedSteps += 1
        stats.finalStepSize = h
        solution.steps?.append(StepRecord(t: t, h: h, y: y))
        while next < times.count && (times[next] - grid[i]) * direction <= 0 {
            if times[next] == grid[i] {
                solution.states.append(step.y1)
            } else {
                try prepareDenseOutput(&step, tableau: options.method, f)
                solution.states.append(interpolate(step, tableau: options.method, theta: (times[next] - t) / h))
            }
            next += 1
        }
        y = step.y1
        k1 = step.f1
    }
}

/// Hairer, Nørsett & Wanner's starting step (Solving ODEs I, II.4): two estimates from the
/// scaled norms of y₀, f₀ and a difference quotient of f; costs one evaluation.
@_specialize(where Y == TensorList<Float>)
@_specialize(where Y == TensorList<Double>)
func initialStep<Y: ODEState>(
    _ f: (Double, Y) throws -> Y, t0: Double, y0: Y, f0: Y, direction: Double, order: Int, options: ODEOptions
) throws -> Double {
    let scaled = { (v: Y) -> Double in
        options.norm(Y.errorComponents(error: v, y0: y0, y1: y0, rtol: options.rtol, atol: options.atol))
    }
    let d0 = scaled(y0), d1 = scaled(f0)
    let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
    let y1 = Y.combine(y0, [direction * h0], [f0])
    let f1 = try f(t0 + direction * h0, y1)
    let d2 = scaled(Y.combine(f1, [-1], [f0])) / h0
    let h1: Double
    if Swift.max(d1, d2) <= 1e-15 {
        h1 = Swift.max(1e-6, h0 * 1e-3)
    } else {
        h1 = Foundation.pow(0.01 / Swift.max(d1, d2), 1 / Double(order + 1))
    }
    let h = Swift.min(100 * h0, h1)
    return h.isFinite && h > 0 ? h : 1e-6
}
