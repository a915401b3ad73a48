import ArgumentParser
import Foundation
import Laminar

/// Flags of data-parallel runs (`mpirun -np N laminar train …`).
struct DistributedOptions: ParsableArguments {
    @Option(name: .customLong("replica-check"), help: "Under mpirun: compare parameter checksums of all ranks every K iterations and stop with an error if they differ (a check for debugging and tests; 0: off).")
    var replicaCheck: Int = 0

    func validate() throws {
        guard replicaCheck >= 0 else { throw ValidationError("--replica-check must be ≥ 0, got \(replicaCheck)") }
    }

    /// Joins the job (MPI when started by mpirun, else a single process). Only rank 0 prints
    /// from here on.
    func dataParallel<S: TensorScalar>(_: S.Type = Float.self) throws -> DataParallel<S> {
        let world = try DistributedRun.join()
        return DataParallel(communicator: world, replicaCheckInterval: replicaCheck > 0 ? replicaCheck : nil)
    }
}

/// What a process of a data-parallel job does differently: rank 0 alone prints, and a failure
/// ends the whole job.
enum DistributedRun {
    /// Whether this process prints notes and progress: true unless it is a rank other than 0.
    static var printsOutput: Bool { Distributed.joined?.isRoot ?? true }

    /// The job's communicator (initialises MPI under mpirun); announces the job on rank 0.
    static func join() throws -> any Communicator {
        let world = try Distributed.world()
        if world.size > 1 && world.isRoot { note("data parallel: \(world.size) ranks (mpirun)") }
        return world
    }

    /// Reports a runtime failure (`message`, by default `error: …`) and ends the process with
    /// `code` (1; 2 for a value only `run()` could judge). In a job of several
    /// ranks, a failure every rank reaches together (a stop, a divergence seen in the reduced
    /// loss, a decision of rank 0) is printed by rank 0 and every rank exits normally; any other
    /// failure is printed with the rank's number and ends the whole job at once (MPI_Abort),
    /// so that no rank waits forever in a collective.
    static func fail(_ error: Error, message: String? = nil, code: Int32 = 1) -> Never {
        let message = message ?? "error: \(error)"
        guard let world = Distributed.joined, world.size > 1 else {
            FileHandle.standardError.write(Data("\(message)\n".utf8))
            exit(code)
        }
        if isReachedByEveryRank(error) {
            if world.isRoot { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
            // exit runs MPI_Finalize, which waits for every rank; should one not come, leaving
            // without it makes mpirun end the job.
            DispatchQueue.global().asyncAfter(deadline: .now() + 30) { _exit(code) }
            exit(code)
        }
        FileHandle.standardError.write(Data("error on \(world.rankDescription): \(error)\n".utf8))
        world.abort(exitCode: 1)
    }

    /// Failures that every rank of a job meets at the same point.
    static func isReachedByEveryRank(_ error: Error) -> Bool {
        switch error {
        case let e as TrainingError:
            switch e {
            case .interrupted, .diverged, .nfeBudgetExceeded, .resumeMismatch: return true
            case .invalidOptions, .solverFailed: return false
            }
        case let e as DistributedError:
            if case .mpi = e { return false }
            return true
        case let e as ClassifierError:
            switch e {
            case .interrupted, .diverged, .resumeMismatch: return true
            default: return false
            }
        case let e as LatentError:
            switch e {
            case .interrupted, .diverged, .resumeMismatch: return true
            default: return false
            }
        default:
            return false
        }
    }
}
