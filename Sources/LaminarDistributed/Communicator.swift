/// The processes (ranks) of one data-parallel job and the three collectives training needs.
///
/// Every rank calls the same collectives in the same order with buffers of the same length;
/// a collective returns on a rank only when every rank has entered it. Two conformers:
/// ``SingleProcessCommunicator`` (one rank, every collective a no-op) and
/// ``MPICommunicator`` (Open MPI's `MPI_COMM_WORLD`, for jobs started by `mpirun`).
public protocol Communicator: AnyObject, Sendable {
    /// This process's index, `0..<size`; rank 0 is the root that does a job's I/O.
    var rank: Int { get }
    /// Number of processes in the job.
    var size: Int { get }
    /// Replaces `buffer` on every rank, in place, by the element-wise sum over all ranks.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `buffer` on every rank, in place, by the element-wise sum over all ranks.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Copies `root`'s bytes into `buffer` on every other rank (same length on every rank).
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends the whole job at once with `exitCode` (every rank, not only this one): the way out
    /// of a failure that other ranks, blocked in a collective, cannot learn about.
    func abort(exitCode: Int32) -> Never
}

extension Communicator {
    /// Whether this is rank 0, the rank that prints, writes files and decides for the job.
    public var isRoot: Bool { rank == 0 }

    /// `"rank 1 of 4"`, for messages.
    public var rankDescription: String { "rank \(rank) of \(size)" }

    /// Sums `values` over all ranks in place, then multiplies by `scale` (e.g. `1/size` for a
    /// mean). One collective for the whole buffer.
    public func allReduce(_ values: inout [Float], scale: Float = 1) throws {
        if size > 1 { try values.withUnsafeMutableBufferPointer { try allReduceSum($0) } }
        if scale != 1 { for k in values.indices { values[k] *= scale } }
    }

    /// Sums `values` over all ranks in place, then multiplies by `scale`.
    public func allReduce(_ values: inout [Double], scale: Double = 1) throws {
        if size > 1 { try values.withUnsafeMutableBufferPointer { try allReduceSum($0) } }
        if scale != 1 { for k in values.indices { values[k] *= scale } }
    }
}
