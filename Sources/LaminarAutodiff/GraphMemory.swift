import Synchronization

/// Measures the memory held by recorded graphs: the bytes of every tensor produced by a
/// recorded operation while it is alive. Used to show that adjoint gradients keep memory flat as
/// the number of solver steps grows, while back-propagation through the solver does not.
public final class GraphMemoryProbe: Sendable {
    private let state = Mutex<(live: Int, peak: Int)>((0, 0))

    public init() {}

    /// Bytes held right now.
    public var liveBytes: Int { state.withLock { $0.live } }
    /// The largest number of bytes held at once.
    public var peakBytes: Int { state.withLock { $0.peak } }

    func add(_ bytes: Int) {
        state.withLock {
            $0.live += bytes
            $0.peak = Swift.max($0.peak, $0.live)
        }
    }
}

/// Scoping of the probe.
public enum GraphMemory {
    @TaskLocal static var probe: GraphMemoryProbe?

    /// Runs `body` with a fresh probe attached to every operation it records.
    public static func measure<R>(_ body: () throws -> R) rethrows -> (result: R, probe: GraphMemoryProbe) {
        let probe = GraphMemoryProbe()
        let result = try $probe.withValue(probe, operation: body)
        return (result, probe)
    }
}
