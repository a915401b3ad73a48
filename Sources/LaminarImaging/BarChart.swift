/// Histograms drawn as bars over their bins, with axes, ticks and labels.
public enum BarChart {
    /// A histogram of `values` in `bins` equal bins between their finite minimum and maximum:
    /// one bar per bin, x ticks at round values, y ticks in counts, `title` above.
    public static func histogram(
        _ values: [Double], bins: Int, title: String, xLabel: String, yLabel: String,
        color: RGB = LineChart.palette[0], width: Int = 720, height: Int = 440
    ) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        image.drawText(title, centerX: width / 2, y: 10)
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), bins >= 1 else { return image }
        let span = hi > lo ? hi - lo : 1
        let binWidth = span / Double(bins)
        var counts = [Int](repeating: 0, count: bins)
        for v in finite { counts[Swift.min(bins - 1, Int((v - lo) / binWidth))] += 1 }
        let left = 72, right = width - 24, top = 34, bottom = height - 52
        let yTicks = LineChart.niceTicks(0, Double(counts.max() ?? 1), count: 5)
        let yHi = Swift.max(Double(counts.max() ?? 1), yTicks.last ?? 1)
        let xLo = lo, xHi = lo + span
        func px(_ x: Double) -> Double { Double(left) + (x - xLo) / (xHi - xLo) * Double(right - left) }
        func py(_ y: Double) -> Double { Double(bottom) - y / yHi * Double(bottom - top) }
        let axis = RGB(60, 60, 60), grid = RGB(225, 225, 225)
        for t in yTicks {
            let y = Int(py(t).rounded())
            image.fillRectangle(x: left, y: y, width: right - left, height: 1, color: grid)
            let label = LineChart.tickLabel(t, step: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1)
            image.drawText(label, x: left - 6 - BitmapFont.width(of: label), y: y - 3, color: axis)
        }
        for (k, count) in counts.enumerated() where count > 0 {
            let x0 = Int(px(lo + Double(k) * binWidth).rounded()), x1 = Int(px(lo + Double(k + 1) * binWidth).rounded())
            let y0 = Int(py(Double(count)).rounded())
            image.fillRectangle(x: x0, y: y0, width: Swift.max(1, x1 - x0 - 1), height: bottom - y0, color: color)
        }
        let xTicks = LineChart.niceTicks(xLo, xHi, count: 6).filter { $0 >= xLo && $0 <= xHi }
        for t in xTicks {
            let x = Int(px(t).rounded())
            image.fillRectangle(x: x, y: bottom, width: 1, height: 5, color: axis)
            image.drawText(LineChart.tickLabel(t, step: xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1), centerX: x, y: bottom + 8, color: axis)
        }
        image.fillRectangle(x: left, y: top, width: 1, height: bottom - top + 1, color: axis)
        image.fillRectangle(x: left, y: bottom, width: right - left + 1, height: 1, color: axis)
        image.drawText(xLabel, centerX: (left + right) / 2, y: bottom + 24, color: axis)
        image.drawText(yLabel, x: 4, y: top - 16, color: axis)
        return image
    }
}
