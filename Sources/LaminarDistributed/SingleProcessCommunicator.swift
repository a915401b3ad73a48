import Foundation

/// The communicator of a process that runs alone (not started by `mpirun`): rank 0 of 1, every
/// collective returns at once and leaves its buffer as it is.
public final class SingleProcessCommunicator: Communicator {
    /// The communicator of a lone process.
    public init() {}

    /// Always 0.
    public var rank: Int { 0 }
    /// Always 1.
    public var size: Int { 1 }
    /// The sum over one rank: leaves `buffer` as it is.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    /// The sum over one rank: leaves `buffer` as it is.
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    /// Leaves `buffer` as it is; throws unless `root` is 0.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        guard root == 0 else { throw DistributedError.invalidRoot(root, size: 1) }
    }
    /// Returns at once.
    public func barrier() throws {}
    /// Exits the process with `exitCode`.
    public func abort(exitCode: Int32) -> Never { exit(exitCode) }
}
