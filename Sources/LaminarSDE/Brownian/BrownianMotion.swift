/// A sample path of a Brownian motion W on `[t0, t1]` that can be queried at any time.
///
/// `W(t0) = 0`. Every component is an independent standard Brownian motion, so an increment
/// `W(t) − W(s)` is Gaussian with mean 0 and variance `|t − s|` per element. Queries are
/// deterministic: the same object answers the same query with the same numbers, in any order,
/// which is what lets an adjoint solve walk the forward solve's path backwards.
///
/// Conformers are reference types because they may cache the last query (not thread-safe:
/// share one object between solves that run one after another, not at the same time).
public protocol BrownianMotion: AnyObject {
    /// Shape of one value W(t) (e.g. `[batch, noise]`).
    var shape: [Int] { get }
    /// The time span the path is defined on; queries outside it are clamped to it.
    var t0: Double { get }
    var t1: Double { get }
    /// `W(t) − W(t0)`, row-major, `shape.reduce(1, *)` elements.
    func value(at t: Double) -> [Double]
}

extension BrownianMotion {
    /// Elements of one value.
    public var count: Int { shape.reduce(1, *) }

    /// `W(t) − W(s)` (s may be after t: the increment of a backward step).
    public func increment(from s: Double, to t: Double) -> [Double] {
        let a = value(at: s), b = value(at: t)
        return zip(b, a).map { $0 - $1 }
    }

    /// `W(t) − W(s)` as a tensor of ``shape``.
    public func increment<S: TensorScalar>(from s: Double, to t: Double, as _: S.Type = S.self) -> Tensor<S> {
        Tensor(shape: shape, scalars: increment(from: s, to: t).map { S($0) })
    }

    /// Whether `[a, b]` (either order) lies inside the path's span.
    public func covers(_ a: Double, _ b: Double) -> Bool {
        let lo = Swift.min(t0, t1), hi = Swift.max(t0, t1)
        let span = hi - lo
        let slack = 1e-12 * Swift.max(1, span)
        return Swift.min(a, b) >= lo - slack && Swift.max(a, b) <= hi + slack
    }
}
