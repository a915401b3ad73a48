import ArgumentParser
import Laminar

/// `--solver`, `--rtol`, `--atol`: which method integrates an ODE and how tightly, declared
/// and validated once for every command that solves one (`sample` included, where they
/// override the model's own). Each flag is optional so that a command can tell a given value
/// from its default (image defaults, the model's settings, values read from a checkpoint on
/// `--resume`).
struct SolverMethodOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "ODE solver: \(Tableau.names.joined(separator: ", ")) (default dopri5; sample: the model's own).",
        valueName: "method"))
    var solver: Tableau?

    @Option(help: "Relative tolerance of the solves (default 1e-5; image models 1e-3; classify 1e-3; sample: the model's).")
    var rtol: Double?

    @Option(help: "Absolute tolerance of the solves (default: as --rtol's).")
    var atol: Double?

    func validate() throws {
        for (flag, value) in [("--rtol", rtol), ("--atol", atol)] {
            if let value, !(value > 0 && value.isFinite) {
                throw ValidationError("\(flag) must be positive, got \(value)")
            }
        }
    }
}

/// The solve settings of every command that trains through an ODE: ``SolverMethodOptions``
/// plus `--step-size` (fixed-step methods) and `--gradient`.
struct SolverOptions: ParsableArguments {
    @OptionGroup var method: SolverMethodOptions

    @Option(name: .customLong("step-size"), help: "Step of the fixed-step solvers euler, midpoint and rk4 (e.g. 0.05).")
    var stepSize: Double?

    @Option(help: ArgumentHelp(
        "Gradient through the solves: \(GradientMethod.names.joined(separator: ", ")) (default adjoint; latent models backprop).",
        valueName: "mode"))
    var gradient: GradientMethod?

    /// `--solver`.
    var solver: Tableau? { method.solver }
    /// `--rtol`.
    var rtol: Double? { method.rtol }
    /// `--atol`.
    var atol: Double? { method.atol }

    func validate() throws {
        if let stepSize, !(stepSize > 0 && stepSize.isFinite) {
            throw ValidationError("--step-size must be positive, got \(stepSize)")
        }
        if let solver, !solver.isAdaptive, stepSize == nil {
            throw ValidationError("--solver \(solver.name) is a fixed-step method: give --step-size (e.g. 0.05)")
        }
    }

    /// `defaults` with the given flags applied.
    func settings(defaults: SolveSettings) -> SolveSettings {
        var s = defaults
        if let solver { s.method = solver }
        if let rtol { s.rtol = rtol }
        if let atol { s.atol = atol }
        if let gradient { s.gradient = gradient }
        if let stepSize { s.stepSize = stepSize }
        return s
    }

    /// The flags given on the command line with their values, for comparison with a checkpoint.
    var given: [(flag: String, value: String)] {
        var out: [(String, String)] = []
        if let solver { out.append(("--solver", solver.name)) }
        if let rtol { out.append(("--rtol", "\(rtol)")) }
        if let atol { out.append(("--atol", "\(atol)")) }
        if let gradient { out.append(("--gradient", gradient.name)) }
        if let stepSize { out.append(("--step-size", "\(stepSize)")) }
        return out
    }
}

extension Tableau: ExpressibleByArgument {
    /// A method from its `--solver` value (one of ``Tableau/names``); nil for an unknown name,
    /// which argument-parser reports with the accepted values.
    public init?(argument: String) {
        guard let t = Tableau.named(argument) else { return nil }
        self = t
    }

    /// The accepted `--solver` values, for help text and shell completion.
    public static var allValueStrings: [String] { names }
}

extension GradientMethod: ExpressibleByArgument {
    /// A gradient mode from its `--gradient` value (one of ``GradientMethod/names``, or
    /// `checkpointed-adjoint` for `checkpointed`).
    public init?(argument: String) { self.init(name: argument) }

    /// The accepted `--gradient` values, for help text and shell completion.
    public static var allValueStrings: [String] { names }
}
