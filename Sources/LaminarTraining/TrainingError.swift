/// Failures of a training run. Their descriptions are one line that names the iteration, the
/// cause and what usually helps.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A setting out of range; the message names the flag.
    case invalidOptions(String)
    /// The loss or the gradient norm stopped being finite at `iteration`.
    case diverged(iteration: Int, cause: String)
    /// One iteration needed more function evaluations than ``TrainingOptions/maxNFE``.
    case nfeBudgetExceeded(iteration: Int, nfe: Int, budget: Int)
    /// The model's step threw (an ODE solver failure, typically).
    case solverFailed(iteration: Int, message: String)
    /// The run directory cannot be resumed with these settings (or holds no checkpoint).
    case resumeMismatch(String)
    /// A stop request (SIGINT/SIGTERM) ended the run after `iteration`; a checkpoint was written.
    case interrupted(iteration: Int)

    /// The one-line message.
    public var description: String {
        switch self {
        case .invalidOptions(let s): return s
        case .diverged(let i, let cause):
            return "training diverged at iteration \(i): \(cause). The last good checkpoint is kept; try a smaller --lr, --clip 1, or --on-divergence restore-and-halve-lr"
        case .nfeBudgetExceeded(let i, let nfe, let budget):
            return "iteration \(i) needed \(nfe) function evaluations, above --max-nfe \(budget): the dynamics are getting stiff. Try a looser --rtol/--atol, a larger --max-nfe, or for flows regularization (--kinetic 0.01 --jacobian 0.01)"
        case .solverFailed(let i, let m):
            return "the ODE solver failed at iteration \(i): \(m). The last good checkpoint is kept"
        case .resumeMismatch(let s): return "cannot resume: \(s)"
        case .interrupted(let i): return "interrupted at iteration \(i); checkpoint written, continue with --resume"
        }
    }
}
