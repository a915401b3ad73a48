import Foundation
import Testing
import LaminarDistributed
import LaminarNN
import _LaminarTestSupport

/// The data-parallel collectives, with ranks played by threads of the test process.
@Suite struct DataParallelTests {
    /// Mean squared error of a linear model on rows `x` ([n, 3]) against `y` ([n, 1]), and its
    /// gradient.
    static func gradient(_ w: Tensor<Float>, _ x: Tensor<Float>, _ y: Tensor<Float>) -> (Double, [Tensor<Float>]) {
        withGradient {
            let wv = Variable(w, requiresGradient: true)
            let r = matmul(Variable(x), wv) - Variable(y)
            let loss = square(r).mean()
            return (Double(loss.value.scalar), LaminarAutodiff.gradients(of: loss, wrt: [wv]).map(\.value))
        }
    }

    /// N ranks that each differentiate the mean loss of their shard end, after `reduce`, with
    /// the gradient and loss of the whole batch (to Float summation tolerance), and every rank
    /// gets every rank's per-rank values.
    @Test(arguments: [2, 3, 4])
    func reducedShardGradientsEqualTheGlobalBatchGradient(ranks: Int) throws {
        var rng = RandomGenerator(seed: 4)
        let batch = 11
        let x: Tensor<Float> = .randomNormal([batch, 3], using: &rng)
        let y: Tensor<Float> = .randomNormal([batch, 1], using: &rng)
        let w: Tensor<Float> = .randomNormal([3, 1], using: &rng)
        let (globalLoss, globalGradient) = Self.gradient(w, x, y)
        // Differentiate on this thread (the autodiff graph is per thread); only the collective
        // runs on the rank threads.
        let local = (0..<ranks).map { r -> (BatchShard, Double, [Tensor<Float>]) in
            let shard = BatchShard(rank: r, of: ranks, globalCount: batch)
            let (loss, g) = Self.gradient(w, shard.rows(of: x), shard.rows(of: y))
            return (shard, loss, g)
        }
        let results = ThreadGroup(size: ranks).run { comm -> ([Tensor<Float>], DataParallel<Float>.StepTotals) in
            let parallel = DataParallel<Float>(communicator: comm)
            var (shard, loss, g) = local[comm.rank]
            #expect(try parallel.shard(globalCount: batch) == shard)
            let totals = try parallel.reduce(&g, shard: shard, means: [loss], perRank: [Double(10 + comm.rank)])
            return (g, totals)
        }
        for result in results {
            let (g, totals) = try result.get()
            #expect(isClose(g[0], globalGradient[0], rtol: 1e-5, atol: 1e-6))
            #expect(abs(totals.means[0] - globalLoss) < 1e-5 * abs(globalLoss))
            #expect(totals.perRank[0] == (0..<ranks).map { Double(10 + $0) })
        }
        // Bit-identical on every rank (same sum in the same order).
        let first = try results[0].get().0[0].scalars
        for result in results { #expect(try result.get().0[0].scalars == first) }
    }

    @Test func synchronizeGivesEveryRankTheRootsParametersAndOptimizerState() throws {
        let results = ThreadGroup(size: 3).run { comm -> ([Float], [Float]) in
            var rng = RandomGenerator(seed: UInt64(100 + comm.rank))  // different on every rank
            let p = Variable(Tensor<Float>.randomNormal([2, 3], using: &rng), requiresGradient: true)
            let adam = Adam(parameters: [p], learningRate: 0.1)
            for _ in 0...comm.rank { adam.step(gradients: [.randomNormal([2, 3], using: &rng)]) }
            try DataParallel<Float>(communicator: comm).synchronize(parameters: [("p", p)], optimizer: adam)
            return (p.value.scalars, adam.state(prefix: "").flatMap(\.1.scalars))
        }
        let root = try results[0].get()
        for r in results {
            #expect(try r.get().0 == root.0)
            #expect(try r.get().1 == root.1)
        }
    }

    @Test func replicaCheckFailsOnEveryRankAndNamesTheRankThatDiffers() {
        let results = ThreadGroup(size: 3).run { comm -> Void in
            let value: Float = comm.rank == 2 ? 1.000001 : 1
            let p = Variable(Tensor<Float>(repeating: value, shape: [4]), requiresGradient: true)
            let parallel = DataParallel<Float>(communicator: comm, replicaCheckInterval: 5)
            try parallel.checkReplicas([p], iteration: 3)  // not due: no check
            try parallel.checkReplicas([p], iteration: 10)
        }
        for result in results {
            #expect(throws: DistributedError.self) { try result.get() }
            if case .failure(let error) = result {
                #expect("\(error)".contains("rank 2 differ"))
            }
        }
    }

    @Test func replicaCheckPassesForIdenticalParameters() throws {
        let results = ThreadGroup(size: 2).run { comm -> Void in
            let p = Variable(Tensor<Float>(repeating: 0.5, shape: [4]), requiresGradient: true)
            try DataParallel<Float>(communicator: comm, replicaCheckInterval: 1).checkReplicas([p], iteration: 7)
        }
        for r in results { try r.get() }
    }

    @Test func stopFlagsAreOredOverRanks() throws {
        let results = ThreadGroup(size: 3).run { comm in
            try DataParallel<Float>(communicator: comm).agree([comm.rank == 1, false])
        }
        for r in results { #expect(try r.get() == [true, false]) }
    }

    @Test func aBatchSmallerThanTheJobIsRejected() {
        let results = ThreadGroup(size: 3).run { comm in try DataParallel<Float>(communicator: comm).shard(globalCount: 2) }
        for r in results {
            #expect(throws: DistributedError.self) { try r.get() }
        }
    }

    @Test func rootDecisionsAndGathersReachEveryRank() throws {
        struct Failure: Error, CustomStringConvertible { var description: String { "no checkpoint here" } }
        let results = ThreadGroup(size: 3).run { comm -> (Int, [[UInt8]], String) in
            let decided = try comm.decidedOnRoot { 40 + comm.rank }  // runs on the root only
            let gathered = try comm.allGather(bytes: Array(repeating: UInt8(comm.rank), count: comm.rank + 1))
            var failure = ""
            do { _ = try comm.decidedOnRoot { () throws -> Int in throw Failure() } } catch { failure = "\(error)" }
            return (decided, gathered, failure)
        }
        for r in results {
            let (decided, gathered, failure) = try r.get()
            #expect(decided == 40)
            #expect(gathered == [[0], [1, 1], [2, 2, 2]])
            #expect(failure == "no checkpoint here")
        }
    }

    @Test func aSingleProcessIsRankZeroOfOneAndEveryCollectiveIsTheIdentity() throws {
        let comm = SingleProcessCommunicator()
        #expect(comm.rank == 0 && comm.size == 1 && comm.isRoot)
        var values: [Float] = [1, 2, 3]
        try comm.allReduce(&values)
        #expect(values == [1, 2, 3])
        #expect(try comm.broadcast(bytes: [7, 8]) == [7, 8])
        #expect(try comm.decidedOnRoot { 5 } == 5)
        #expect(throws: DistributedError.self) { try comm.broadcast(UnsafeMutableRawBufferPointer(start: nil, count: 0), from: 1) }
        if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] == nil {
            #expect(try Distributed.world() is SingleProcessCommunicator)  // a plain run never initialises MPI
        }
    }
}
