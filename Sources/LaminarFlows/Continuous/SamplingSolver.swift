import LaminarODE

/// How a CNF is integrated when sampling: an adaptive method with tolerances, or a fixed-step
/// method with a number of steps per block (what `laminar sample --solver --steps` sets), so
/// that sampling cost can be traded for accuracy. Flow-matching fields with straight paths
/// (condot, OT coupling, reflow) sample well with a few Euler or midpoint steps.
public struct SamplingSolver: Sendable, Equatable {
    /// The solver's name (a `Tableau` name: `dopri5`, `euler`, `rk4`, …).
    public var method: String
    /// Fixed-step methods: steps per block over [0, T].
    public var steps: Int?
    /// Adaptive methods: relative tolerance (nil keeps the model's).
    public var rtol: Double?
    /// Adaptive methods: absolute tolerance (nil keeps the model's).
    public var atol: Double?

    /// A sampling solver: `method` with `steps` per block (fixed-step) or `rtol`/`atol` (adaptive).
    public init(method: String, steps: Int? = nil, rtol: Double? = nil, atol: Double? = nil) {
        self.method = method
        self.steps = steps
        self.rtol = rtol
        self.atol = atol
    }

    /// Checks the combination; messages name the flags.
    public func validate() throws {
        guard let tableau = Tableau.named(method) else {
            throw FlowError.invalidConfiguration(
                "--solver '\(method)' unknown; use one of \(Tableau.all.map(\.name).joined(separator: ", "))")
        }
        if tableau.isAdaptive {
            guard steps == nil else {
                throw FlowError.invalidConfiguration("--steps is for the fixed-step solvers (euler, midpoint, rk4); \(method) is adaptive, use --rtol/--atol")
            }
            for (flag, value) in [("--rtol", rtol), ("--atol", atol)] {
                if let value, !(value > 0 && value.isFinite) {
                    throw FlowError.invalidConfiguration("\(flag) must be > 0, got \(value)")
                }
            }
        } else {
            guard let steps else {
                throw FlowError.invalidConfiguration("--solver \(method) is a fixed-step method; give the number of steps with --steps N")
            }
            guard steps >= 1 && steps <= 100_000 else {
                throw FlowError.invalidConfiguration("--steps must be in 1…100000, got \(steps)")
            }
            guard rtol == nil && atol == nil else {
                throw FlowError.invalidConfiguration("--rtol/--atol are for adaptive solvers; \(method) takes --steps")
            }
        }
    }

    /// The solve options for a block of length `endTime` whose current options are `options`.
    public func options(endTime: Double, base options: ODEOptions) -> ODEOptions {
        var out = options
        out.method = Tableau.named(method)!
        if let steps, !out.method.isAdaptive {
            out.stepSize = endTime / Double(steps)
        } else {
            out.stepSize = nil
            if let rtol { out.rtol = rtol }
            if let atol { out.atol = atol }
        }
        return out
    }
}

/// A flow made of CNF blocks whose solver can be changed for sampling and evaluation.
public protocol ContinuousFlow<Scalar>: Flow {
    /// Every CNF block of the model.
    var continuousBlocks: [CNFBlock<Scalar>] { get }
}

extension ContinuousFlow {
    /// Sets the solve options of every block (forward and inverse solves; training keeps
    /// working with them too).
    public func useSolver(_ solver: SamplingSolver) throws {
        try solver.validate()
        for block in continuousBlocks {
            block.options = solver.options(endTime: block.endTime, base: block.options)
        }
    }
}

extension FFJORD: ContinuousFlow {
    /// The stacked blocks.
    public var continuousBlocks: [CNFBlock<Scalar>] { blocks }
}

extension MultiscaleCNF: ContinuousFlow {
    /// Every block of every scale, in transport order.
    public var continuousBlocks: [CNFBlock<Scalar>] { allBlocks }
}
