import Foundation
import LaminarDistributed

/// A job of `size` ranks that are threads of this process: a ``Communicator`` for testing the
/// data-parallel logic without `mpirun`. Every collective deposits this rank's bytes, waits
/// for the others and combines the deposits in rank order (as a reduction tree would, up to
/// summation order).
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    private var slots: [[UInt8]]

    init(size: Int) {
        self.size = size
        slots = Array(repeating: [], count: size)
    }

    func barrier() {
        condition.lock()
        let g = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while g == generation { condition.wait() }
        }
        condition.unlock()
    }

    /// Deposits `bytes` for `rank`, waits for every rank and returns all deposits.
    func exchange(_ bytes: [UInt8], rank: Int) -> [[UInt8]] {
        condition.lock()
        slots[rank] = bytes
        condition.unlock()
        barrier()
        condition.lock()
        let all = slots
        condition.unlock()
        barrier()  // nobody overwrites a slot before everyone has read it
        return all
    }

    /// Runs `body` on `size` threads, one per rank, and returns each rank's result.
    func run<T>(_ body: @escaping @Sendable (ThreadRankCommunicator) throws -> T) -> [Result<T, Error>] {
        let results = ResultBox<T>(count: size)
        var threads: [Thread] = []
        let done = DispatchGroup()
        for r in 0..<size {
            done.enter()
            let communicator = ThreadRankCommunicator(group: self, rank: r)
            let thread = Thread {
                results.set(r, Result { try body(communicator) })
                done.leave()
            }
            threads.append(thread)
        }
        threads.forEach { $0.start() }
        done.wait()
        return results.values.map { $0! }
    }
}

final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<T, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<T, Error>) { lock.lock(); values[i] = r; lock.unlock() }
}

final class ThreadRankCommunicator: Communicator, @unchecked Sendable {
    let group: ThreadGroup
    let rank: Int
    var size: Int { group.size }

    init(group: ThreadGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    private func sum<T: BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>) {
        let all = group.exchange(Array(UnsafeRawBufferPointer(buffer)), rank: rank)
        for k in 0..<buffer.count { buffer[k] = 0 }
        for part in all {
            part.withUnsafeBytes { raw in
                let values = raw.bindMemory(to: T.self)
                for k in 0..<buffer.count { buffer[k] += values[k] }
            }
        }
    }

    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws { sum(buffer) }
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws { sum(buffer) }

    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        let all = group.exchange(Array(UnsafeRawBufferPointer(buffer)), rank: rank)
        guard all[root].count == buffer.count else {
            throw DistributedError.mismatch("broadcast of \(buffer.count) bytes, root sent \(all[root].count)")
        }
        all[root].withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    func barrier() throws { group.barrier() }

    func abort(exitCode: Int32) -> Never { fatalError("abort(\(exitCode)) in a thread-rank test") }
}
