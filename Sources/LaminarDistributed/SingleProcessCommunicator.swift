import Foundation

/// The communicator of a process that runs alone (not started by `mpirun`): rank 0 of 1, every
/// collective returns at once and leaves its buffer as it is.
public final class SingleProcessCommunicator: Communicator {
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        guard root == 0 else { throw DistributedError.invalidRoot(root, size: 1) }
    }
    public func barrier() throws {}
    public func abort(exitCode: Int32) -> Never { exit(exitCode) }
}
