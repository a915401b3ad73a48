/// Colour-mapped pictures of scalar grids and point clouds.
public enum Heatmap {
    /// Renders `values` (`rows × cols`, row 0 drawn at the top) with `colorMap` over
    /// `range` (default: the finite minimum to maximum), each cell `scale × scale` pixels.
    /// Non-finite values (e.g. log-densities of −∞) take the colour of the range's low end.
    public static func render(
        _ values: [Double], rows: Int, cols: Int, range: ClosedRange<Double>? = nil, scale: Int = 4,
        colorMap: ColorMap = .viridis
    ) -> RGBImage {
        precondition(values.count == rows * cols, "Heatmap: \(values.count) values for \(rows)×\(cols)")
        let finite = values.filter(\.isFinite)
        let lo = range?.lowerBound ?? finite.min() ?? 0
        let hi = range?.upperBound ?? finite.max() ?? 1
        let span = hi > lo ? hi - lo : 1
        var image = RGBImage(width: cols * scale, height: rows * scale)
        for r in 0..<rows {
            for c in 0..<cols {
                let v = values[r * cols + c]
                let color = colorMap.color(at: v.isFinite ? (v - lo) / span : 0)
                image.fillRectangle(x: c * scale, y: r * scale, width: scale, height: scale, color: color)
            }
        }
        return image
    }

    /// A 2-D histogram of points `(x, y)` over `[low, high]²` on a `bins × bins` grid (y up),
    /// colour-mapped linearly in counts, each bin `scale × scale` pixels.
    public static func histogram(
        x: [Double], y: [Double], low: Double, high: Double, bins: Int = 200, scale: Int = 2,
        colorMap: ColorMap = .viridis
    ) -> RGBImage {
        let counts = histogramCounts(x: x, y: y, low: low, high: high, bins: bins)
        return render(counts.values, rows: bins, cols: bins, range: 0...counts.clip, scale: scale, colorMap: colorMap)
    }

    /// The counts of a 2-D histogram (`bins × bins`, row 0 at the top, y up) and the count at
    /// which its colour scale saturates: the 99.5th percentile of non-empty bins, so that a few
    /// dense bins do not wash out the rest of the picture.
    public static func histogramCounts(
        x: [Double], y: [Double], low: Double, high: Double, bins: Int
    ) -> (values: [Double], clip: Double) {
        precondition(x.count == y.count, "Heatmap.histogram: \(x.count) x and \(y.count) y values")
        var counts = [Double](repeating: 0, count: bins * bins)
        let width = (high - low) / Double(bins)
        for (u, v) in zip(x, y) where u.isFinite && v.isFinite {
            let c = Int(((u - low) / width).rounded(.down))
            let r = bins - 1 - Int(((v - low) / width).rounded(.down))
            guard c >= 0, c < bins, r >= 0, r < bins else { continue }
            counts[r * bins + c] += 1
        }
        let nonzero = counts.filter { $0 > 0 }.sorted()
        let top = nonzero.isEmpty ? 1 : nonzero[Swift.min(nonzero.count - 1, Int(Double(nonzero.count) * 0.995))]
        return (counts, Swift.max(top, 1))
    }
}
