/// Group normalisation (Wu & He 2018) as two kernels over contiguous `[N, C, S]` data (S the
/// spatial size), the channels split into `groups` groups of `C / G`.
///
/// Statistics accumulate in Double whatever the element type, with the mean first and the sum of
/// squared deviations second (no cancellation in `E[x²] − E[x]²`).
public struct GroupNormGeometry: Sendable, Equatable {
    /// Samples N (the first axis).
    public var batch: Int
    /// Channels C (the second axis), a multiple of ``groups``.
    public var channels: Int
    /// Elements per channel (H·W).
    public var spatial: Int
    /// Groups G the channels are split into (G = C: instance norm; G = 1: layer norm over C·S).
    public var groups: Int

    /// The geometry of `[batch, channels, spatial]` data; traps unless `groups` is positive and
    /// divides `channels`.
    public init(batch: Int, channels: Int, spatial: Int, groups: Int) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels do not split into \(groups) groups")
        self.batch = batch
        self.channels = channels
        self.spatial = spatial
        self.groups = groups
    }

    /// Channels per group.
    public var channelsPerGroup: Int { channels / groups }
    /// Elements normalised together.
    public var groupSize: Int { channelsPerGroup * spatial }
}

/// Batches smaller than this many elements are normalised on the calling thread.
let groupNormParallelElements = 1 << 15

/// ``groupNormForwardSerial(_:_:_:_:_:_:_:epsilon:rectify:)`` on blocks of samples, one per
/// configured thread (samples are independent).
func groupNormForwardLoop<S: TensorScalar>(
    _ x: UnsafePointer<S>, _ gamma: UnsafePointer<S>, _ beta: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
    _ xhat: UnsafeMutablePointer<S>, _ rstd: UnsafeMutablePointer<S>, _ g: GroupNormGeometry, epsilon: Double,
    rectify: Bool
) {
    let sample = g.channels * g.spatial
    let blocks = g.batch * sample < groupNormParallelElements ? [0..<g.batch] : ConvEngine.imageBlocks(g.batch)
    _ = RowParallel.map(blocks) { b in
        var part = g
        part.batch = b.count
        let o = b.lowerBound * sample
        groupNormForwardSerial(
            x + o, gamma, beta, y + o, xhat + o, rstd + b.lowerBound * g.groups, part, epsilon: epsilon, rectify: rectify)
    }
}

/// ``groupNormBackwardSerial(_:_:_:_:_:_:_:_:rectifiedBias:)`` on blocks of samples, one per
/// configured thread; the blocks' `dγ`, `dβ` are summed.
func groupNormBackwardLoop<S: TensorScalar>(
    _ dy: UnsafePointer<S>, _ xhat: UnsafePointer<S>, _ rstd: UnsafePointer<S>, _ gamma: UnsafePointer<S>,
    _ dx: UnsafeMutablePointer<S>, _ dgamma: UnsafeMutablePointer<S>, _ dbeta: UnsafeMutablePointer<S>,
    _ g: GroupNormGeometry, rectifiedBias: UnsafePointer<S>?
) {
    let sample = g.channels * g.spatial
    let blocks = g.batch * sample < groupNormParallelElements ? [0..<g.batch] : ConvEngine.imageBlocks(g.batch)
    let partials = (1..<blocks.count).map { _ in Workspace<S>(count: 2 * g.channels) }
    defer { partials.forEach { $0.release() } }
    _ = RowParallel.map(blocks) { b in
        let index = blocks.firstIndex(of: b)!
        let (dg, db) = index == 0 ? (dgamma, dbeta) : (partials[index - 1].pointer, partials[index - 1].pointer + g.channels)
        var part = g
        part.batch = b.count
        let o = b.lowerBound * sample
        groupNormBackwardSerial(
            dy + o, xhat + o, rstd + b.lowerBound * g.groups, gamma, dx + o, dg, db, part,
            rectifiedBias: rectifiedBias)
    }
    for partial in partials {
        for c in 0..<g.channels {
            dgamma[c] += partial.pointer[c]
            dbeta[c] += partial.pointer[g.channels + c]
        }
    }
}

/// `x̂ = (x − μ_g)·r_g` with `r_g = 1/√(σ²_g + ε)` per sample and group, and
/// `y = γ_c·x̂ + β_c`, or `y = max(γ_c·x̂ + β_c, 0)` with `rectify` (the ReLU that follows the
/// normalisation in the classifiers, without a pass of its own); writes `y`, `x̂` and `r` ([N·G]).
func groupNormForwardSerial<S: TensorScalar>(
    _ x: UnsafePointer<S>, _ gamma: UnsafePointer<S>, _ beta: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
    _ xhat: UnsafeMutablePointer<S>, _ rstd: UnsafeMutablePointer<S>, _ g: GroupNormGeometry, epsilon: Double,
    rectify: Bool
) {
    let m = g.groupSize
    for block in 0..<(g.batch * g.groups) {
        let base = block * m
        let mean = sumInDouble(x + base, count: m) / Double(m)
        let squares = sumOfSquaredDeviations(x + base, count: m, from: mean)
        let r = 1 / (squares / Double(m) + epsilon).squareRoot()
        rstd[block] = S(r)
        let firstChannel = (block % g.groups) * g.channelsPerGroup
        let shift = S(mean), scale = S(r)
        for c in 0..<g.channelsPerGroup {
            let gc = gamma[firstChannel + c], bc = beta[firstChannel + c]
            let start = base + c * g.spatial
            if rectify {
                for i in start..<(start + g.spatial) {
                    let h = (x[i] - shift) * scale
                    xhat[i] = h
                    y[i] = Swift.max(h * gc + bc, 0)
                }
            } else {
                for i in start..<(start + g.spatial) {
                    let h = (x[i] - shift) * scale
                    xhat[i] = h
                    y[i] = h * gc + bc
                }
            }
        }
    }
}

/// The vector–Jacobian product of ``groupNormForwardSerial(_:_:_:_:_:_:_:epsilon:rectify:)`` for
/// the upstream gradient `dy`: `dβ_c = Σ dy`, `dγ_c = Σ dy·x̂` (over samples and positions) and
/// `dx = r·(dy·γ − mean_g(dy·γ) − x̂·mean_g(dy·γ·x̂))`. After a rectified forward pass,
/// `rectifiedBias` is its β: `dy` then counts only where `γ·x̂ + β > 0`, the ReLU's derivative,
/// recomputed from `x̂` (no read of the output). `dgamma` and `dbeta` are overwritten.
func groupNormBackwardSerial<S: TensorScalar>(
    _ dy: UnsafePointer<S>, _ xhat: UnsafePointer<S>, _ rstd: UnsafePointer<S>, _ gamma: UnsafePointer<S>,
    _ dx: UnsafeMutablePointer<S>, _ dgamma: UnsafeMutablePointer<S>, _ dbeta: UnsafeMutablePointer<S>,
    _ g: GroupNormGeometry, rectifiedBias beta: UnsafePointer<S>?
) {
    let m = g.groupSize
    for c in 0..<g.channels {
        dgamma[c] = 0
        dbeta[c] = 0
    }
    for block in 0..<(g.batch * g.groups) {
        let base = block * m
        let firstChannel = (block % g.groups) * g.channelsPerGroup
        var meanScaled = 0.0, meanProjected = 0.0
        for c in 0..<g.channelsPerGroup {
            let gc = Double(gamma[firstChannel + c])
            let start = base + c * g.spatial
            let rectifier = beta.map { (gamma[firstChannel + c], $0[firstChannel + c]) }
            let (sumDy, sumDyXhat) = sumAndInnerProduct(dy + start, xhat + start, count: g.spatial, rectifier: rectifier)
            dbeta[firstChannel + c] += S(sumDy)
            dgamma[firstChannel + c] += S(sumDyXhat)
            meanScaled += gc * sumDy
            meanProjected += gc * sumDyXhat
        }
        meanScaled /= Double(m)
        meanProjected /= Double(m)
        let r = rstd[block], a = S(meanScaled), b = S(meanProjected)
        for c in 0..<g.channelsPerGroup {
            let gc = gamma[firstChannel + c]
            let start = base + c * g.spatial
            if let beta {
                let bc = beta[firstChannel + c]
                for i in start..<(start + g.spatial) {
                    let d = xhat[i] * gc + bc > 0 ? dy[i] : 0
                    dx[i] = r * (d * gc - a - xhat[i] * b)
                }
            } else {
                for i in start..<(start + g.spatial) {
                    dx[i] = r * (dy[i] * gc - a - xhat[i] * b)
                }
            }
        }
    }
}

/// `Σ x[i]` in Double with four independent partial sums (a single running sum is one
/// dependent addition per element; four let the additions overlap); Float data takes
/// ``sumInDouble(_:count:)-(UnsafePointer<Float>,_)``.
@inline(__always)
func sumInDouble<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int) -> Double {
    if S.self == Float.self { return sumInDouble(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), count: count) }
    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
    var i = 0
    while i + 4 <= count {
        s0 += Double(x[i]); s1 += Double(x[i + 1]); s2 += Double(x[i + 2]); s3 += Double(x[i + 3])
        i += 4
    }
    while i < count { s0 += Double(x[i]); i += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// `Σ (x[i] − mean)²` in Double, four partial sums (Float data: 16 lanes).
@inline(__always)
func sumOfSquaredDeviations<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int, from mean: Double) -> Double {
    if S.self == Float.self {
        return sumOfSquaredDeviations(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), count: count, from: mean)
    }
    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
    var i = 0
    while i + 4 <= count {
        let d0 = Double(x[i]) - mean, d1 = Double(x[i + 1]) - mean
        let d2 = Double(x[i + 2]) - mean, d3 = Double(x[i + 3]) - mean
        s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
        i += 4
    }
    while i < count {
        let d = Double(x[i]) - mean
        s0 += d * d
        i += 1
    }
    return (s0 + s1) + (s2 + s3)
}

/// `(Σ a[i], Σ a[i]·b[i])` in Double, four partial sums each (Float data: 16 lanes); with a
/// `rectifier` (γ, β), over the entries with `γ·b[i] + β > 0` only.
@inline(__always)
func sumAndInnerProduct<S: TensorScalar>(
    _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, count: Int, rectifier: (S, S)? = nil
) -> (Double, Double) {
    if S.self == Float.self {
        let float = { (p: UnsafePointer<S>) in UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }
        return sumAndInnerProduct(float(a), float(b), count: count, rectifier: rectifier.map { (Float($0.0), Float($0.1)) })
    }
    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
    var (p0, p1, p2, p3) = (0.0, 0.0, 0.0, 0.0)
    @inline(__always) func at(_ i: Int) -> Double { rectifier.map { b[i] * $0.0 + $0.1 > 0 } ?? true ? Double(a[i]) : 0 }
    var i = 0
    while i + 4 <= count {
        let a0 = at(i), a1 = at(i + 1), a2 = at(i + 2), a3 = at(i + 3)
        s0 += a0; s1 += a1; s2 += a2; s3 += a3
        p0 += a0 * Double(b[i]); p1 += a1 * Double(b[i + 1]); p2 += a2 * Double(b[i + 2]); p3 += a3 * Double(b[i + 3])
        i += 4
    }
    while i < count {
        let d = at(i)
        s0 += d
        p0 += d * Double(b[i])
        i += 1
    }
    return ((s0 + s1) + (s2 + s3), (p0 + p1) + (p2 + p3))
}

// Float statistics in Double, 16 elements per iteration: each SIMD4<Float> load widens into a
// SIMD4<Double> (vcvtps2pd) feeding one of four independent accumulators. (SIMD8/SIMD16 forms of
// the same loops came out of LLVM with lane shuffles and ran 2–3× slower.)

/// Four Floats at `p`, widened to Double.
@inline(__always)
private func widened(_ p: UnsafePointer<Float>) -> SIMD4<Double> {
    SIMD4<Double>(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self))
}

/// Four Floats at `p`, zero where `γ·b + β` (b the four Floats at `b`) is not positive,
/// widened to Double.
@inline(__always)
private func widened(_ p: UnsafePointer<Float>, rectifiedBy b: UnsafePointer<Float>, _ gamma: Float, _ beta: Float) -> SIMD4<Double> {
    var v = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    let pre = UnsafeRawPointer(b).loadUnaligned(as: SIMD4<Float>.self) * gamma + beta
    v.replace(with: 0, where: pre .<= 0)
    return SIMD4<Double>(v)
}

/// ``sumInDouble(_:count:)`` for Float data.
@inline(__always)
func sumInDouble(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var (s0, s1, s2, s3) = (SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>())
    var i = 0
    while i + 16 <= count {
        s0 += widened(x + i); s1 += widened(x + i + 4); s2 += widened(x + i + 8); s3 += widened(x + i + 12)
        i += 16
    }
    while i + 4 <= count {
        s0 += widened(x + i)
        i += 4
    }
    var s = ((s0 + s1) + (s2 + s3)).sum()
    while i < count { s += Double(x[i]); i += 1 }
    return s
}

/// ``sumOfSquaredDeviations(_:count:from:)`` for Float data.
@inline(__always)
func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, from mean: Double) -> Double {
    var (s0, s1, s2, s3) = (SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>())
    let m = SIMD4<Double>(repeating: mean)
    var i = 0
    while i + 16 <= count {
        let d0 = widened(x + i) - m, d1 = widened(x + i + 4) - m, d2 = widened(x + i + 8) - m, d3 = widened(x + i + 12) - m
        s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
        i += 16
    }
    while i + 4 <= count {
        let d = widened(x + i) - m
        s0 += d * d
        i += 4
    }
    var s = ((s0 + s1) + (s2 + s3)).sum()
    while i < count {
        let d = Double(x[i]) - mean
        s += d * d
        i += 1
    }
    return s
}

/// ``sumAndInnerProduct(_:_:count:rectifier:)`` for Float data.
@inline(__always)
func sumAndInnerProduct(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, rectifier: (Float, Float)?
) -> (Double, Double) {
    var (s0, s1, s2, s3) = (SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>())
    var (p0, p1, p2, p3) = (SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>())
    var i = 0
    while i + 16 <= count {
        let a0, a1, a2, a3: SIMD4<Double>
        if let (g, beta) = rectifier {
            a0 = widened(a + i, rectifiedBy: b + i, g, beta); a1 = widened(a + i + 4, rectifiedBy: b + i + 4, g, beta)
            a2 = widened(a + i + 8, rectifiedBy: b + i + 8, g, beta); a3 = widened(a + i + 12, rectifiedBy: b + i + 12, g, beta)
        } else {
            a0 = widened(a + i); a1 = widened(a + i + 4); a2 = widened(a + i + 8); a3 = widened(a + i + 12)
        }
        s0 += a0; s1 += a1; s2 += a2; s3 += a3
        p0 += a0 * widened(b + i); p1 += a1 * widened(b + i + 4); p2 += a2 * widened(b + i + 8); p3 += a3 * widened(b + i + 12)
        i += 16
    }
    while i + 4 <= count {
        let a0 = rectifier.map { widened(a + i, rectifiedBy: b + i, $0.0, $0.1) } ?? widened(a + i)
        s0 += a0
        p0 += a0 * widened(b + i)
        i += 4
    }
    var (s, p) = (((s0 + s1) + (s2 + s3)).sum(), ((p0 + p1) + (p2 + p3)).sum())
    while i < count {
        let d = rectifier.map { b[i] * $0.0 + $0.1 > 0 } ?? true ? Double(a[i]) : 0
        s += d
        p += d * Double(b[i])
        i += 1
    }
    return (s, p)
}

extension Tensor {
    /// Group normalisation of `x` ([N, C, …], contiguous) with per-channel `weight` γ and `bias`
    /// β ([C]): returns the output, the normalised input `x̂` (same shape) and the reciprocal
    /// standard deviations ([N, G]) that
    /// ``groupNormBackward(_:normalized:reciprocalStd:weight:groups:rectifiedBias:)`` needs.
    /// With `rectify` the output is `max(γ·x̂ + β, 0)`: group normalisation followed by a ReLU
    /// in the same pass.
    ///
    /// - Complexity: two passes over `x` and one write of each output, O(N·C·S).
    public static func groupNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, groups: Int, epsilon: Double, rectify: Bool = false
    ) -> (output: Tensor, normalized: Tensor, reciprocalStd: Tensor) {
        let geometry = GroupNormGeometry(
            batch: x.shape[0], channels: x.shape[1], spatial: x.count / Swift.max(x.shape[0] * x.shape[1], 1), groups: groups)
        precondition(weight.count == geometry.channels && bias.count == geometry.channels, "groupNorm: γ and β need \(geometry.channels) entries")
        var xhat = Tensor(shape: x.shape, unsafeUninitialized: { _ in })
        var rstd = Tensor(shape: [geometry.batch, groups], unsafeUninitialized: { _ in })
        let output = Tensor(shape: x.shape, unsafeUninitialized: { y in
            x.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        xhat.withUnsafeMutableBufferPointer { h in
                            rstd.withUnsafeMutableBufferPointer { r in
                                Scalar.groupNormForward(
                                    xp.baseAddress!, w.baseAddress!, b.baseAddress!, y.baseAddress!, h.baseAddress!,
                                    r.baseAddress!, geometry, epsilon: epsilon, rectify: rectify)
                            }
                        }
                    }
                }
            }
        })
        return (output, xhat, rstd)
    }

    /// The gradients of ``groupNorm(_:weight:bias:groups:epsilon:rectify:)`` for the upstream
    /// gradient `dy`: `(dx, dγ, dβ)`. For a rectified forward pass, `rectifiedBias` is its β:
    /// `dy` counts only where `γ·x̂ + β > 0` (the ReLU's derivative, in the same pass).
    ///
    /// - Complexity: two passes over `dy` and `x̂`, O(N·C·S).
    public static func groupNormBackward(
        _ dy: Tensor, normalized xhat: Tensor, reciprocalStd rstd: Tensor, weight: Tensor, groups: Int,
        rectifiedBias: Tensor? = nil
    ) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let geometry = GroupNormGeometry(
            batch: dy.shape[0], channels: dy.shape[1], spatial: dy.count / Swift.max(dy.shape[0] * dy.shape[1], 1), groups: groups)
        var dgamma = Tensor(shape: [geometry.channels], unsafeUninitialized: { _ in })
        var dbeta = Tensor(shape: [geometry.channels], unsafeUninitialized: { _ in })
        precondition(rectifiedBias.map { $0.count == geometry.channels } ?? true, "groupNormBackward: β needs \(geometry.channels) entries")
        func withBias<R>(_ body: (UnsafePointer<Scalar>?) -> R) -> R {
            guard let rectifiedBias else { return body(nil) }
            return rectifiedBias.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
        let dx = Tensor(shape: dy.shape, unsafeUninitialized: { out in
            withBias { beta in dy.withUnsafeBufferPointer { d in
                xhat.withUnsafeBufferPointer { h in
                    rstd.withUnsafeBufferPointer { r in
                        weight.withUnsafeBufferPointer { w in
                            dgamma.withUnsafeMutableBufferPointer { dg in
                                dbeta.withUnsafeMutableBufferPointer { db in
                                    Scalar.groupNormBackward(
                                        d.baseAddress!, h.baseAddress!, r.baseAddress!, w.baseAddress!, out.baseAddress!,
                                        dg.baseAddress!, db.baseAddress!, geometry, rectifiedBias: beta)
                                }
                            }
                        }
                    }
                }
            } }
        })
        return (dx, dgamma, dbeta)
    }
}
