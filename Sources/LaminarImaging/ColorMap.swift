/// Perceptual colour maps for densities and histograms.
public struct ColorMap: Sendable {
    let anchors: [(Double, Double, Double)]

    /// Viridis (van der Walt & Smith, matplotlib's default): 17 anchors, linearly interpolated.
    public static let viridis = ColorMap(anchors: [
        (0.267004, 0.004874, 0.329415), (0.282623, 0.140926, 0.457517), (0.253935, 0.265254, 0.529983),
        (0.206756, 0.371758, 0.553117), (0.163625, 0.471133, 0.558148), (0.127568, 0.566949, 0.550556),
        (0.134692, 0.658636, 0.517649), (0.266941, 0.748751, 0.440573), (0.477504, 0.821444, 0.318195),
        (0.741388, 0.873449, 0.149561), (0.993248, 0.906157, 0.143936),
    ])

    /// Black to white.
    public static let gray = ColorMap(anchors: [(0, 0, 0), (1, 1, 1)])

    /// The colour at `t` ∈ [0, 1] (clamped); NaN maps to mid gray.
    public func color(at t: Double) -> RGB {
        guard t.isFinite else { return RGB(128, 128, 128) }
        let x = Swift.min(Swift.max(t, 0), 1) * Double(anchors.count - 1)
        let i = Swift.min(Int(x), anchors.count - 2)
        let f = x - Double(i)
        let (a, b) = (anchors[i], anchors[i + 1])
        func channel(_ u: Double, _ v: Double) -> UInt8 { UInt8(((u + (v - u) * f) * 255).rounded()) }
        return RGB(channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
    }
}
