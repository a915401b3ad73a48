import Foundation
import LaminarDistributed

/// Data-parallel training of a model replicated on every rank of a ``Communicator``: what a
/// trainer does at its few collective points, written once for every trainer.
///
/// - The global batch is the batch one process would draw; each rank computes the loss of
///   its ``BatchShard`` (``shard(globalCount:)``).
/// - After the gradients and before the optimizer step, ``reduce(_:shard:means:perRank:)``
///   turns every rank's shard-mean gradients into the global-batch mean in one all-reduce of
///   one contiguous buffer, which also carries the step's statistics.
/// - ``synchronize(parameters:optimizer:)`` copies the root's parameters and optimizer state
///   to every rank (at the start of a run and after a resume).
/// - ``agree(_:)`` makes stop decisions (signals, time budgets) the same on every rank.
/// - ``checkReplicas(_:iteration:)`` compares parameter checksums every
///   ``replicaCheckInterval`` iterations and throws on every rank when they differ.
///
/// With a ``SingleProcessCommunicator`` every one of these returns its input at once.
public final class DataParallel<Scalar: TensorScalar>: @unchecked Sendable {
    /// The ranks the model is replicated on.
    public let communicator: any Communicator
    /// Compare parameter checksums across ranks every this many iterations (nil: never).
    public let replicaCheckInterval: Int?

    /// Training over `communicator` (by default one process, where every collective returns its
    /// input); `replicaCheckInterval` turns on ``checkReplicas(_:iteration:)``.
    public init(communicator: any Communicator = SingleProcessCommunicator(), replicaCheckInterval: Int? = nil) {
        self.communicator = communicator
        self.replicaCheckInterval = replicaCheckInterval
    }

    /// Whether there are several ranks.
    public var isDistributed: Bool { communicator.size > 1 }
    /// Whether this rank prints and writes the run's files (rank 0).
    public var isRoot: Bool { communicator.isRoot }

    /// This rank's rows of a global batch of `globalCount` rows.
    /// - Throws: ``DistributedError/mismatch(_:)`` when the batch has fewer rows than there are
    ///   ranks (a rank would have nothing to compute).
    public func shard(globalCount: Int) throws -> BatchShard {
        guard globalCount >= communicator.size else {
            throw DistributedError.mismatch(
                "a batch of \(globalCount) cannot be split over \(communicator.size) ranks; use --batch ≥ \(communicator.size) or fewer ranks")
        }
        return BatchShard(rank: communicator.rank, of: communicator.size, globalCount: globalCount)
    }

    /// What one step's all-reduce returns besides the gradients.
    public struct StepTotals {
        /// The global-batch means of the `means` passed in (each rank's value weighted by its
        /// share of the batch).
        public var means: [Double]
        /// For each quantity passed as `perRank`, its value on every rank, in rank order.
        public var perRank: [[Double]]
    }

    /// The step's one collective. On entry `gradients` are the gradients of this rank's
    /// shard-mean loss and `means` shard means (loss, NLL, regularizers); on return every rank
    /// holds the gradients of the global-batch mean loss, `Σ_r (n_r / B) g_r`, and the global
    /// means. `perRank` values (function evaluations) come back from every rank.
    ///
    /// One all-reduce of one contiguous buffer `[g₁ … g_P, means, perRank slots]` in `Scalar`.
    public func reduce(
        _ gradients: inout [Tensor<Scalar>], shard: BatchShard, means: [Double], perRank: [Double]
    ) throws -> StepTotals {
        guard isDistributed else { return StepTotals(means: means, perRank: perRank.map { [$0] }) }
        let size = communicator.size, w = shard.fraction
        let gradientCount = gradients.reduce(0) { $0 + $1.count }
        var buffer = [Scalar](repeating: 0, count: gradientCount + means.count + perRank.count * size)
        var offset = 0
        let weight = Scalar(w)
        for g in gradients {
            g.withUnsafeBufferPointer { src in
                for k in 0..<src.count { buffer[offset + k] = src[k] * weight }
            }
            offset += g.count
        }
        for (k, m) in means.enumerated() { buffer[offset + k] = Scalar(m * w) }
        offset += means.count
        for (q, v) in perRank.enumerated() { buffer[offset + q * size + communicator.rank] = Scalar(v) }
        try allReduceSum(&buffer)
        offset = 0
        for k in gradients.indices {
            let n = gradients[k].count
            gradients[k] = Tensor(shape: gradients[k].shape) { dst in
                for j in 0..<n { dst[j] = buffer[offset + j] }
            }
            offset += n
        }
        let reducedMeans = (0..<means.count).map { Double(buffer[offset + $0]) }
        offset += means.count
        let slots = (0..<perRank.count).map { q in (0..<size).map { Double(buffer[offset + q * size + $0]) } }
        return StepTotals(means: reducedMeans, perRank: slots)
    }

    /// Sums `buffer` over the ranks in place.
    public func allReduceSum(_ buffer: inout [Scalar]) throws {
        guard isDistributed else { return }
        try buffer.withUnsafeMutableBufferPointer { buf in
            if Scalar.self == Float.self {
                try buf.withMemoryRebound(to: Float.self) { try communicator.allReduceSum($0) }
            } else if Scalar.self == Double.self {
                try buf.withMemoryRebound(to: Double.self) { try communicator.allReduceSum($0) }
            } else {
                throw DistributedError.mismatch("no all-reduce for \(Scalar.self)")
            }
        }
    }

    /// Gives every rank the root's parameters and optimizer state (one broadcast of them
    /// serialised as a safetensors image), so the replicas start identical.
    public func synchronize(parameters: [(String, Variable<Scalar>)], optimizer: Adam<Scalar>?) throws {
        guard isDistributed else { return }
        var bytes: [UInt8] = []
        if isRoot {
            let state = optimizer?.state(prefix: "optimizer.") ?? []
            bytes = try SafetensorsFile.serialize(parameters.map { ($0.0, $0.1.value) } + state, metadata: [:])
        }
        bytes = try communicator.broadcast(bytes: bytes)
        guard !isRoot else { return }
        let checkpoint = try Checkpoint<Scalar>(file: try SafetensorsFile.parse(bytes, path: "the root's parameters"))
        try checkpoint.restore(parameters: parameters)
        if let optimizer { try optimizer.load(state: checkpoint.optimizerState(prefix: "optimizer.")) }
    }

    /// `flags` or-ed over the ranks: a stop request on any rank stops every rank at the same
    /// iteration.
    public func agree(_ flags: [Bool]) throws -> [Bool] {
        guard isDistributed else { return flags }
        var values = flags.map { $0 ? 1.0 : 0.0 }
        try communicator.allReduce(&values)
        return values.map { $0 > 0 }
    }

    /// A 64-bit FNV-1a digest of the parameters' bytes (bit-exact: equal digests mean equal
    /// parameters up to a hash collision).
    public static func digest(_ parameters: [Variable<Scalar>]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for p in parameters {
            p.value.withUnsafeBufferPointer { buf in
                UnsafeRawBufferPointer(buf).forEach { byte in
                    h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                }
            }
        }
        return h
    }

    /// When `iteration` is a multiple of ``replicaCheckInterval``: compares every rank's
    /// parameter digest with the root's and throws ``DistributedError/mismatch(_:)`` on every
    /// rank, naming the ranks that differ, when one does.
    public func checkReplicas(_ parameters: [Variable<Scalar>], iteration: Int) throws {
        guard isDistributed, let k = replicaCheckInterval, iteration % k == 0 else { return }
        var digest = Self.digest(parameters)
        let mine = withUnsafeBytes(of: &digest) { Array($0) }
        let all = try communicator.allGather(bytes: mine)
        let differing = all.indices.filter { all[$0] != all[0] }
        guard differing.isEmpty else {
            throw DistributedError.mismatch(
                "after iteration \(iteration) the parameters of rank\(differing.count > 1 ? "s" : "") \(differing.map(String.init).joined(separator: ", ")) differ from rank 0's (checksums \(all.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: " ")))")
        }
    }
}
