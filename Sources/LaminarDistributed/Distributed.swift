import Foundation
import Synchronization

/// How this process takes part in a job: alone, or as one rank of an `mpirun` launch.
public enum Distributed {
    /// The environment variable Open MPI's launcher sets in every process it starts.
    public static let launcherVariable = "OMPI_COMM_WORLD_SIZE"

    /// Whether `mpirun`/`mpiexec` (Open MPI) started this process. Read from the environment,
    /// so a plain run never loads MPI's state or pays for its initialisation.
    public static var isLaunchedByMPI: Bool { ProcessInfo.processInfo.environment[launcherVariable] != nil }

    private static let cache = Mutex<(any Communicator)?>(nil)

    /// The communicator ``world()`` has made, if it has been called; never initialises MPI.
    public static var joined: (any Communicator)? { cache.withLock { $0 } }

    /// The job's communicator: MPI's world when launched by `mpirun` (MPI is initialised on the
    /// first call, which must come from the main thread), otherwise a
    /// ``SingleProcessCommunicator``. The same object on every call.
    public static func world() throws -> any Communicator {
        try cache.withLock { cached in
            if let cached { return cached }
            let made: any Communicator = isLaunchedByMPI ? try MPICommunicator() : SingleProcessCommunicator()
            cached = made
            return made
        }
    }
}
