import CMPI
import Foundation

/// `MPI_COMM_WORLD` of a job started by Open MPI's `mpirun`.
///
/// MPI is initialised once per process (`MPI_Init_thread` with `MPI_THREAD_FUNNELED`: only the
/// thread that initialised it calls MPI; worker threads of the BLAS and row-parallel kernels
/// never do) and finalised at exit. Errors come back as codes (`MPI_ERRORS_RETURN`) and are
/// thrown as ``DistributedError/mpi(call:code:message:)``. When a rank dies, `mpirun` ends the
/// job and names the rank; MPI has no timeout on a blocked collective of its own.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    // @unchecked: the handle is an immutable pointer to MPI's world communicator and MPI is
    // only called from the initialising thread (MPI_THREAD_FUNNELED).
    private let comm: MPI_Comm
    /// This process's rank in `MPI_COMM_WORLD`, `0..<size`.
    public let rank: Int
    /// Number of processes in the job (`mpirun -np`).
    public let size: Int

    /// Elements per MPI call: counts are 32-bit, so large buffers go in chunks.
    private static let chunk = 1 << 28

    /// Initialises MPI (if no one has) and joins the world communicator.
    public init() throws {
        var initialised: Int32 = 0
        try Self.check(MPI_Initialized(&initialised), "MPI_Initialized")
        if initialised == 0 {
            var provided: Int32 = 0
            try Self.check(MPI_Init_thread(nil, nil, laminar_mpi_thread_funneled(), &provided), "MPI_Init_thread")
            atexit {
                var finalised: Int32 = 0
                MPI_Finalized(&finalised)
                if finalised == 0 { MPI_Finalize() }
            }
        }
        comm = laminar_mpi_comm_world()
        try Self.check(MPI_Comm_set_errhandler(comm, laminar_mpi_errors_return()), "MPI_Comm_set_errhandler")
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(comm, &s), "MPI_Comm_size")
        (rank, size) = (Int(r), Int(s))
    }

    /// Replaces `buffer` by its element-wise sum over all ranks (`MPI_Allreduce` in place, in chunks of 2²⁸).
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: laminar_mpi_float(), stride: 4)
    }

    /// Replaces `buffer` by its element-wise sum over all ranks (`MPI_Allreduce` in place, in chunks of 2²⁸).
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try allReduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: laminar_mpi_double(), stride: 8)
    }

    private func allReduce(_ base: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype, stride: Int) throws {
        guard let base, count > 0 else { return }
        var start = 0
        while start < count {
            let n = Swift.min(Self.chunk, count - start)
            try Self.check(
                MPI_Allreduce(laminar_mpi_in_place(), base + start * stride, Int32(n), type, laminar_mpi_sum(), comm),
                "MPI_Allreduce")
            start += n
        }
    }

    /// Overwrites `buffer` on every rank with the bytes of rank `root` (`MPI_Bcast`).
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        guard (0..<size).contains(root) else { throw DistributedError.invalidRoot(root, size: size) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        var start = 0
        while start < buffer.count {
            let n = Swift.min(Self.chunk, buffer.count - start)
            try Self.check(MPI_Bcast(base + start, Int32(n), laminar_mpi_byte(), Int32(root), comm), "MPI_Bcast")
            start += n
        }
    }

    /// Returns once every rank has called it (`MPI_Barrier`).
    public func barrier() throws {
        try Self.check(MPI_Barrier(comm), "MPI_Barrier")
    }

    /// Ends every rank of the job with `exitCode` (`MPI_Abort`).
    public func abort(exitCode: Int32) -> Never {
        MPI_Abort(comm, exitCode)
        exit(exitCode)  // MPI_Abort does not return; this is for the type checker and a broken runtime
    }

    private static func check(_ code: Int32, _ call: String) throws {
        guard code != laminar_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(laminar_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let bytes = text.prefix(Int(length)).map { UInt8(bitPattern: $0) }
        throw DistributedError.mpi(call: call, code: code, message: String(decoding: bytes, as: UTF8.self))
    }
}
