/// Group normalisation (Wu & He 2018) as two kernels over contiguous `[N, C, S]` data (S the
/// spatial size), the channels split into `groups` groups of `C / G`.
///
/// Statistics accumulate in Double whatever the element type, with the mean first and the sum of
/// squared deviations second (no cancellation in `E[x²] − E[x]²`).
public struct GroupNormGeometry: Sendable, Equatable {
    public var batch: Int
    public var channels: Int
    /// Elements per channel (H·W).
    public var spatial: Int
    public var groups: Int

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

/// `x̂ = (x − μ_g)·r_g` with `r_g = 1/√(σ²_g + ε)` per sample and group, and
/// `y = γ_c·x̂ + β_c`; writes `y`, `x̂` and `r` ([N·G]).
func groupNormForwardLoop<S: TensorScalar>(
    _ x: UnsafePointer<S>, _ gamma: UnsafePointer<S>, _ beta: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
    _ xhat: UnsafeMutablePointer<S>, _ rstd: UnsafeMutablePointer<S>, _ g: GroupNormGeometry, epsilon: Double
) {
    let m = g.groupSize
    for block in 0..<(g.batch * g.groups) {
        let base = block * m
        var sum = 0.0
        for i in 0..<m { sum += Double(x[base + i]) }
        let mean = sum / Double(m)
        var squares = 0.0
        for i in 0..<m {
            let d = Double(x[base + i]) - mean
            squares += d * d
        }
        let r = 1 / (squares / Double(m) + epsilon).squareRoot()
        rstd[block] = S(r)
        let firstChannel = (block % g.groups) * g.channelsPerGroup
        let shift = S(mean), scale = S(r)
        for c in 0..<g.channelsPerGroup {
            let gc = gamma[firstChannel + c], bc = beta[firstChannel + c]
            let start = base + c * g.spatial
            for i in start..<(start + g.spatial) {
                let h = (x[i] - shift) * scale
                xhat[i] = h
                y[i] = h * gc + bc
            }
        }
    }
}

/// The vector–Jacobian product of ``groupNormForwardLoop(_:_:_:_:_:_:_:epsilon:)`` for the
/// upstream gradient `dy`: `dβ_c = Σ dy`, `dγ_c = Σ dy·x̂` (over samples and positions) and
/// `dx = r·(dy·γ − mean_g(dy·γ) − x̂·mean_g(dy·γ·x̂))`. `dgamma` and `dbeta` are overwritten.
func groupNormBackwardLoop<S: TensorScalar>(
    _ dy: UnsafePointer<S>, _ xhat: UnsafePointer<S>, _ rstd: UnsafePointer<S>, _ gamma: UnsafePointer<S>,
    _ dx: UnsafeMutablePointer<S>, _ dgamma: UnsafeMutablePointer<S>, _ dbeta: UnsafeMutablePointer<S>,
    _ g: GroupNormGeometry
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
            var sumDy = 0.0, sumDyXhat = 0.0
            for i in start..<(start + g.spatial) {
                let d = Double(dy[i])
                sumDy += d
                sumDyXhat += d * Double(xhat[i])
            }
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
            for i in start..<(start + g.spatial) {
                dx[i] = r * (dy[i] * gc - a - xhat[i] * b)
            }
        }
    }
}

extension Tensor {
    /// Group normalisation of `x` ([N, C, …], contiguous) with per-channel `weight` γ and `bias`
    /// β ([C]): returns the output, the normalised input `x̂` (same shape) and the reciprocal
    /// standard deviations ([N, G]) that ``groupNormBackward(_:normalized:reciprocalStd:weight:groups:)``
    /// needs.
    ///
    /// - Complexity: two passes over `x` and one write of each output, O(N·C·S).
    public static func groupNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, groups: Int, epsilon: Double
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
                                    r.baseAddress!, geometry, epsilon: epsilon)
                            }
                        }
                    }
                }
            }
        })
        return (output, xhat, rstd)
    }

    /// The gradients of ``groupNorm(_:weight:bias:groups:epsilon:)`` for the upstream gradient
    /// `dy`: `(dx, dγ, dβ)`.
    ///
    /// - Complexity: two passes over `dy` and `x̂`, O(N·C·S).
    public static func groupNormBackward(
        _ dy: Tensor, normalized xhat: Tensor, reciprocalStd rstd: Tensor, weight: Tensor, groups: Int
    ) -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let geometry = GroupNormGeometry(
            batch: dy.shape[0], channels: dy.shape[1], spatial: dy.count / Swift.max(dy.shape[0] * dy.shape[1], 1), groups: groups)
        var dgamma = Tensor(shape: [geometry.channels], unsafeUninitialized: { _ in })
        var dbeta = Tensor(shape: [geometry.channels], unsafeUninitialized: { _ in })
        let dx = Tensor(shape: dy.shape, unsafeUninitialized: { out in
            dy.withUnsafeBufferPointer { d in
                xhat.withUnsafeBufferPointer { h in
                    rstd.withUnsafeBufferPointer { r in
                        weight.withUnsafeBufferPointer { w in
                            dgamma.withUnsafeMutableBufferPointer { dg in
                                dbeta.withUnsafeMutableBufferPointer { db in
                                    Scalar.groupNormBackward(
                                        d.baseAddress!, h.baseAddress!, r.baseAddress!, w.baseAddress!, out.baseAddress!,
                                        dg.baseAddress!, db.baseAddress!, geometry)
                                }
                            }
                        }
                    }
                }
            }
        })
        return (dx, dgamma, dbeta)
    }
}
