import LaminarData
import LaminarTensor

/// A batch of irregular series laid out for one solve: per observation index `j` a [B, D]
/// slice (series with fewer observations are padded and masked), and the union of all
/// observation times with dense [K, B, D] targets on it, so the latent trajectory of the whole
/// batch is one `odeint` over the union.
public struct SeriesBatch<Scalar: TensorScalar> {
    /// Series in the batch (B).
    public let count: Int
    /// Features per observation (D).
    public let features: Int
    /// Observation slots (M, the longest series).
    public let steps: Int
    /// `stepValues[j]`: [B, D] observed values at slot `j` (0 where missing or padded).
    public let stepValues: [Tensor<Scalar>]
    /// `stepMask[j]`: [B, D], 1 where the value is observed.
    public let stepMask: [Tensor<Scalar>]
    /// `stepPresent[j]`: [B, 1], 1 where series `b` has a `j`-th observation.
    public let stepPresent: [Tensor<Scalar>]
    /// `stepTimes[j][b]`: time of slot `j` (padded slots repeat the series' last time).
    public let stepTimes: [[Double]]
    /// Ascending union of 0, every observation time and every window end (K entries).
    public let times: [Double]
    /// [K, B, D] observed values on the union grid, and their mask.
    public let targets: Tensor<Scalar>
    /// [K, B, D]: 1 where `targets` holds an observed value.
    public let targetMask: Tensor<Scalar>
    /// [K, B, 1]: 1 where series `b` has an observation (an event) at union time `k`.
    public let events: Tensor<Scalar>
    /// [K, B, 1]: 1 at each series' window end (where the Poisson integral is read).
    public let windowEnds: Tensor<Scalar>

    /// Lays out the observed parts of `examples`.
    public init(_ examples: [SeriesExample]) {
        precondition(!examples.isEmpty, "SeriesBatch: no series")
        let series = examples.map(\.observed)
        let B = series.count
        let D = series[0].featureCount
        let M = series.map(\.times.count).max() ?? 0
        precondition(M >= 1 && series.allSatisfy { $0.featureCount == D || $0.times.isEmpty }, "SeriesBatch: ragged features")
        count = B
        features = D
        steps = M
        var values: [Tensor<Scalar>] = []
        var masks: [Tensor<Scalar>] = []
        var present: [Tensor<Scalar>] = []
        var times: [[Double]] = []
        for j in 0..<M {
            var v = [Scalar](repeating: 0, count: B * D)
            var m = [Scalar](repeating: 0, count: B * D)
            var p = [Scalar](repeating: 0, count: B)
            var t = [Double](repeating: 0, count: B)
            for (b, s) in series.enumerated() {
                guard !s.times.isEmpty else { continue }
                t[b] = s.times[min(j, s.times.count - 1)]
                guard j < s.times.count else { continue }
                p[b] = 1
                for f in 0..<D where s.mask[j][f] {
                    v[b * D + f] = Scalar(s.values[j][f])
                    m[b * D + f] = 1
                }
            }
            values.append(Tensor(shape: [B, D], scalars: v))
            masks.append(Tensor(shape: [B, D], scalars: m))
            present.append(Tensor(shape: [B, 1], scalars: p))
            times.append(t)
        }
        stepValues = values
        stepMask = masks
        stepPresent = present
        stepTimes = times
        let union = Self.union([[0]] + series.map(\.times) + [examples.map(\.windowEnd)])
        self.times = union
        let K = union.count
        var y = [Scalar](repeating: 0, count: K * B * D)
        var w = [Scalar](repeating: 0, count: K * B * D)
        var e = [Scalar](repeating: 0, count: K * B)
        var end = [Scalar](repeating: 0, count: K * B)
        for (b, s) in series.enumerated() {
            for (j, t) in s.times.enumerated() {
                let k = Self.index(of: t, in: union)
                e[k * B + b] = 1
                for f in 0..<D where s.mask[j][f] {
                    y[(k * B + b) * D + f] = Scalar(s.values[j][f])
                    w[(k * B + b) * D + f] = 1
                }
            }
            end[Self.index(of: examples[b].windowEnd, in: union) * B + b] = 1
        }
        targets = Tensor(shape: [K, B, D], scalars: y)
        targetMask = Tensor(shape: [K, B, D], scalars: w)
        events = Tensor(shape: [K, B, 1], scalars: e)
        windowEnds = Tensor(shape: [K, B, 1], scalars: end)
    }

    /// Number of observed values in the batch.
    public var observedValueCount: Int { targetMask.scalars.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } }

    /// Sorted, de-duplicated union of time lists.
    public static func union(_ lists: [[Double]]) -> [Double] {
        var all = lists.flatMap { $0 }.sorted()
        var out: [Double] = []
        out.reserveCapacity(all.count)
        for t in all where out.last != t { out.append(t) }
        all = out
        return all
    }

    /// Index of `t` in the sorted `union` (which holds it).
    static func index(of t: Double, in union: [Double]) -> Int {
        var lo = 0, hi = union.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if union[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        precondition(union[lo] == t, "SeriesBatch: time \(t) is not in the union")
        return lo
    }
}
