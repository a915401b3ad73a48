/// Failures of a collective or of joining a job.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code; `message` is MPI's own text for it.
    case mpi(call: String, code: Int32, message: String)
    /// A root outside `0..<size`.
    case invalidRoot(Int, size: Int)
    /// The ranks disagree about something that must be the same on all of them (a buffer
    /// length, a parameter checksum); `detail` says what.
    case mismatch(String)
    /// The root failed while deciding for every rank; `message` is its error, relayed.
    case rootFailed(String)

    /// What failed, in one line, and what usually caused it.
    public var description: String {
        switch self {
        case .mpi(let call, let code, let message):
            return "\(call) failed (MPI error \(code): \(message)); another rank has probably died, see mpirun's message above"
        case .invalidRoot(let root, let size): return "broadcast root \(root) is not a rank of a job of \(size)"
        case .mismatch(let detail): return "the ranks disagree: \(detail)"
        case .rootFailed(let message): return message
        }
    }
}
