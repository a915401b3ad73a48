/// Descends a virtual binary tree of Brownian-bridge midpoints over `[a, b]` with given end
/// values, to the leaf of width ≤ `tolerance` that holds a query time (Lévy's construction).
///
/// The midpoint of a node `[l, r]` with values `wl`, `wr` is
/// `W(m) = (wl + wr)/2 + √((r − l)/4) · Z(node)`, `Z` a counter-based normal keyed by the node
/// (depth, index), so every node's value is a pure function of the seed. Inside a leaf the
/// value is interpolated linearly (the bridge's mean; its variance there is at most
/// `tolerance / 4`).
///
/// The cursor keeps the path of its last query (`depth × count` numbers, independent of how
/// many queries are made) and restarts the next descent from the deepest node that still
/// contains the new time, so a solve's neighbouring queries cost a few levels each.
final class BridgeCursor {
    let count: Int
    let maxDepth: Int
    let normals: CounterNormal
    /// Per level: node interval, index, and the end values (flat, `count` per level).
    private var lo: [Double]
    private var hi: [Double]
    private var index: [UInt64]
    private var wLo: [Double]
    private var wHi: [Double]
    /// Deepest valid level of the cached path.
    private var depth = 0
    private var scratch: [Double]

    /// - Parameters:
    ///   - a, b: the root interval (a < b) and `wa`, `wb` its end values (`count` each).
    ///   - tolerance: leaf width; the depth is `⌈log₂((b − a)/tolerance)⌉` (at most 60).
    init(a: Double, b: Double, wa: [Double], wb: [Double], tolerance: Double, seed: UInt64) {
        count = wa.count
        let ratio = Swift.max(1, (b - a) / Swift.max(tolerance, .leastNormalMagnitude))
        maxDepth = Swift.min(60, Int(ratio.log2Ceil))
        normals = CounterNormal(seed: seed)
        let levels = maxDepth + 1
        lo = [Double](repeating: a, count: levels)
        hi = [Double](repeating: b, count: levels)
        index = [UInt64](repeating: 0, count: levels)
        wLo = [Double](repeating: 0, count: levels * count)
        wHi = [Double](repeating: 0, count: levels * count)
        scratch = [Double](repeating: 0, count: count)
        for i in 0..<count {
            wLo[i] = wa[i]
            wHi[i] = wb[i]
        }
    }

    /// The path's value at `t`, clamped to the root interval, written to `out` (`count`).
    func value(at t: Double, into out: UnsafeMutablePointer<Double>) {
        let t = Swift.min(Swift.max(t, lo[0]), hi[0])
        // Deepest cached node still containing t.
        while depth > 0 && !(lo[depth] <= t && t <= hi[depth]) { depth -= 1 }
        let n = count
        lo.withUnsafeMutableBufferPointer { lo in
        hi.withUnsafeMutableBufferPointer { hi in
        index.withUnsafeMutableBufferPointer { index in
        wLo.withUnsafeMutableBufferPointer { wLo in
        wHi.withUnsafeMutableBufferPointer { wHi in
        scratch.withUnsafeMutableBufferPointer { z in
            while depth < maxDepth && t != lo[depth] && t != hi[depth] {
                let l = lo[depth], r = hi[depth], m = 0.5 * (l + r)
                let scale = (0.25 * (r - l)).squareRoot()
                normals.fill(key: normals.key(depth: depth, index: index[depth]), z.baseAddress!, count: n)
                let src = depth * n, dst = (depth + 1) * n
                let left = t < m
                for i in 0..<n {
                    let wm = 0.5 * (wLo[src + i] + wHi[src + i]) + scale * z[i]
                    if left {
                        wLo[dst + i] = wLo[src + i]
                        wHi[dst + i] = wm
                    } else {
                        wLo[dst + i] = wm
                        wHi[dst + i] = wHi[src + i]
                    }
                }
                lo[depth + 1] = left ? l : m
                hi[depth + 1] = left ? m : r
                index[depth + 1] = index[depth] &* 2 &+ (left ? 0 : 1)
                depth += 1
            }
            let l = lo[depth], r = hi[depth], base = depth * n
            if t == l {
                for i in 0..<n { out[i] = wLo[base + i] }
            } else if t == r {
                for i in 0..<n { out[i] = wHi[base + i] }
            } else {
                let w = (t - l) / (r - l)
                for i in 0..<n { out[i] = wLo[base + i] + w * (wHi[base + i] - wLo[base + i]) }
            }
        }}}}}}
    }
}

extension Double {
    /// `⌈log₂ self⌉` for self ≥ 1.
    var log2Ceil: Double {
        var k = 0.0, p = 1.0
        while p < self && k < 1100 { p *= 2; k += 1 }
        return k
    }
}
