import Foundation

/// Exchanges built from the broadcast and the all-reduce: variable-length bytes, Codable values,
/// a decision taken on the root, flags, and an all-gather. None is on a training step's hot path.
extension Communicator {
    /// `root`'s bytes on every rank (`bytes` is read on the root only): the length first,
    /// then the payload, two broadcasts.
    public func broadcast(bytes: [UInt8], from root: Int = 0) throws -> [UInt8] {
        guard size > 1 else { return bytes }
        var length = UInt64(rank == root ? bytes.count : 0)
        try withUnsafeMutableBytes(of: &length) { try broadcast($0, from: root) }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
        try out.withUnsafeMutableBytes { try broadcast($0, from: root) }
        return out
    }

    /// `root`'s value on every rank (JSON on the wire; `value` is read on the root only).
    public func broadcast<T: Codable>(_ value: T?, from root: Int = 0) throws -> T {
        if size == 1, let value { return value }
        var payload: [UInt8] = []
        if rank == root {
            guard let value else { throw DistributedError.mismatch("the root of a broadcast has no value") }
            payload = Array(try JSONEncoder().encode(value))
        }
        let received = try broadcast(bytes: payload, from: root)
        return try JSONDecoder().decode(T.self, from: Data(received))
    }

    /// Runs `body` on the root only and gives every rank its result; when `body` throws on
    /// the root, the root rethrows its error and every other rank throws
    /// ``DistributedError/rootFailed(_:)`` with the same text. For decisions that need files
    /// only the root may see (does the run directory hold a checkpoint?).
    public func decidedOnRoot<T: Codable>(_ body: () throws -> T) throws -> T {
        guard size > 1 else { return try body() }
        var outcome: RootOutcome<T>? = nil
        var rootError: Error? = nil
        if isRoot {
            do { outcome = .value(try body()) } catch {
                rootError = error
                outcome = .failure("\(error)")
            }
        }
        switch try broadcast(outcome) {
        case .value(let v): return v
        case .failure(let message):
            if let rootError { throw rootError }
            throw DistributedError.rootFailed(message)
        }
    }

    /// Whether `flag` is true on at least one rank (one all-reduce of one number).
    public func anyRank(_ flag: Bool) throws -> Bool {
        var v = [flag ? 1.0 : 0.0]
        try allReduce(&v)
        return v[0] > 0
    }

    /// Every rank's bytes on every rank, in rank order (one length all-reduce, then one
    /// broadcast per rank).
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] {
        guard size > 1 else { return [bytes] }
        var lengths = [Double](repeating: 0, count: size)
        lengths[rank] = Double(bytes.count)
        try allReduce(&lengths)
        var out: [[UInt8]] = []
        for root in 0..<size {
            var part = root == rank ? bytes : [UInt8](repeating: 0, count: Int(lengths[root]))
            try part.withUnsafeMutableBytes { try broadcast($0, from: root) }
            out.append(part)
        }
        return out
    }
}

/// What the root of ``Communicator/decidedOnRoot(_:)`` sends: its result or its error's text.
private enum RootOutcome<T: Codable>: Codable {
    case value(T)
    case failure(String)
}
