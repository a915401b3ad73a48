import LaminarAutodiff

/// The reshapes of multiscale image flows (Dinh et al. 2017), on `[n, C, H, W]` variables.
/// Both are permutations of entries: volume-preserving (log-determinant 0) and differentiable.
public enum MultiscaleReshape {
    /// `[n, C, H, W] → [n, 4C, H/2, W/2]`: each 2×2 spatial block becomes four channels
    /// (channel `4c + 2i + j` holds pixel `(2r + i, 2s + j)` of channel `c`).
    public static func squeeze<S>(_ x: Variable<S>) -> Variable<S> {
        precondition(x.rank == 4 && x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0,
                     "squeeze: expected [n, C, H, W] with even H and W, got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.reshaped([n, c, h / 2, 2, w / 2, 2]).transposed([0, 1, 3, 5, 2, 4]).reshaped([n, 4 * c, h / 2, w / 2])
    }

    /// The inverse of ``squeeze(_:)``: `[n, 4C, H, W] → [n, C, 2H, 2W]`.
    public static func unsqueeze<S>(_ x: Variable<S>) -> Variable<S> {
        precondition(x.rank == 4 && x.shape[1] % 4 == 0, "unsqueeze: expected [n, 4C, H, W], got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1] / 4, x.shape[2], x.shape[3])
        return x.reshaped([n, c, 2, 2, h, w]).transposed([0, 1, 4, 2, 5, 3]).reshaped([n, c, 2 * h, 2 * w])
    }

    /// Factor-out between scales: the first `kept` channels continue through the next scale,
    /// the rest go to the base distribution.
    public static func factorOut<S>(_ x: Variable<S>, kept: Int) -> (continuing: Variable<S>, factored: Variable<S>) {
        precondition(x.rank == 4 && kept > 0 && kept < x.shape[1], "factorOut: cannot keep \(kept) of \(x.shape[1]) channels")
        return (x.slice(axis: 1, 0..<kept), x.slice(axis: 1, kept..<x.shape[1]))
    }

    /// Shapes `(C, H, W)` entering each of `scales` scales when every scale but the last ends
    /// with a squeeze and factors out half of the channels (`⌊4C/2⌋` go, `4C − ⌊4C/2⌋` stay).
    public static func scaleShapes(channels: Int, height: Int, width: Int, scales: Int) -> [(Int, Int, Int)] {
        var (c, h, w) = (channels, height, width)
        var out: [(Int, Int, Int)] = []
        for _ in 0..<scales {
            out.append((c, h, w))
            (c, h, w) = (4 * c - (4 * c) / 2, h / 2, w / 2)
        }
        return out
    }

    /// Splits base vectors `z` ([n, D]), laid out as the parts factored out after each scale in
    /// forward order followed by the last scale's output: the part of scale `s` entered with
    /// `shapes[s] = (C, H, W)` as `[n, ⌊4C/2⌋, H/2, W/2]` (none for the last scale), and the
    /// last scale's output as `[n, C, H, W]` of `shapes.last`.
    public static func splitBase<S>(_ z: Variable<S>, shapes: [(Int, Int, Int)]) -> (factored: [Variable<S>], last: Variable<S>) {
        let n = z.shape[0]
        var offset = 0
        var factored: [Variable<S>] = []
        for (c, h, w) in shapes.dropLast() {
            let size = (4 * c / 2) * (h / 2) * (w / 2)
            factored.append(z.slice(axis: 1, offset..<(offset + size)).reshaped([n, 4 * c / 2, h / 2, w / 2]))
            offset += size
        }
        let (c, h, w) = shapes[shapes.count - 1]
        return (factored, z.slice(axis: 1, offset..<z.shape[1]).reshaped([n, c, h, w]))
    }

    /// The inverse of ``factorOut(_:kept:)``.
    public static func merge<S>(_ continuing: Variable<S>, _ factored: Variable<S>) -> Variable<S> {
        Variable.concatenate([continuing, factored], axis: 1)
    }
}

/// The first of `count` successive halvings of a `height × width` image that meets an odd side:
/// its index (0-based) and the sides it would halve; nil when every halving divides evenly
/// (what a squeeze per scale, or a U-Net level per resolution, needs).
func firstOddHalving(height: Int, width: Int, count: Int) -> (index: Int, height: Int, width: Int)? {
    var (h, w) = (height, width)
    for k in 0..<Swift.max(count, 0) {
        guard h % 2 == 0, w % 2 == 0 else { return (k, h, w) }
        (h, w) = (h / 2, w / 2)
    }
    return nil
}

/// Whether `C·H·W` stays below 2²⁴ without overflow: the bound image models accept, so that a
/// corrupt checkpoint cannot make them allocate masks of astronomical size.
func imageSizeIsReasonable(_ c: Int, _ h: Int, _ w: Int) -> Bool {
    let (ch, o1) = c.multipliedReportingOverflow(by: h)
    let (chw, o2) = ch.multipliedReportingOverflow(by: w)
    return !o1 && !o2 && chw <= 1 << 24
}
