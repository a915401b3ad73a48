import Testing
import LaminarTensor

@Suite struct BatchShardTests {
    @Test(arguments: [(1, 7), (2, 7), (3, 7), (4, 4), (5, 23), (8, 512)])
    func shardsCoverTheBatchInOrderAndDifferByAtMostOne(size: Int, rows: Int) {
        let shards = (0..<size).map { BatchShard(rank: $0, of: size, globalCount: rows) }
        #expect(shards.first!.rows.lowerBound == 0)
        #expect(shards.last!.rows.upperBound == rows)
        for (a, b) in zip(shards, shards.dropFirst()) { #expect(a.rows.upperBound == b.rows.lowerBound) }
        let counts = shards.map(\.count)
        #expect(counts.max()! - counts.min()! <= 1)
        #expect(abs(shards.map(\.fraction).reduce(0, +) - 1) < 1e-12)
    }

    @Test func rowsOfATensorAreTheShardsRows() {
        let t = Tensor<Float>(shape: [5, 3], scalars: (0..<15).map(Float.init))
        let shard = BatchShard(rank: 1, of: 2, globalCount: 5)  // rows 3..<5
        #expect(shard.rows == 3..<5)
        #expect(shard.rows(of: t).shape == [2, 3])
        #expect(shard.rows(of: t).scalars == (9..<15).map(Float.init))
    }

    /// Per-row noise inside a shard is the shard's rows of what the whole batch would draw, and
    /// the generator ends in the same state, so a second draw matches too.
    @Test func perRowNoiseMatchesTheGlobalBatchsNoise() {
        var rng = RandomGenerator(seed: 9)
        let first: Tensor<Double> = .randomNormal([10, 4], using: &rng)
        let second: Tensor<Double> = .randomNormal([10, 4], using: &rng)
        for rank in 0..<3 {
            let shard = BatchShard(rank: rank, of: 3, globalCount: 10)
            var local = RandomGenerator(seed: 9)
            let (a, b) = BatchShard.$current.withValue(shard) { () -> (Tensor<Double>, Tensor<Double>) in
                let a: Tensor<Double> = BatchShard.perRow([shard.count, 4]) { .randomNormal($0, using: &local) }
                let b: Tensor<Double> = BatchShard.perRow([shard.count, 4]) { .randomNormal($0, using: &local) }
                return (a, b)
            }
            #expect(a.scalars == shard.rows(of: first).scalars)
            #expect(b.scalars == shard.rows(of: second).scalars)
        }
    }

    @Test func perRowNoiseOutsideAShardIsAPlainDraw() {
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let x: Tensor<Float> = BatchShard.perRow([4, 2]) { .randomNormal($0, using: &a) }
        let y: Tensor<Float> = .randomNormal([4, 2], using: &b)
        #expect(x.scalars == y.scalars)
    }
}
