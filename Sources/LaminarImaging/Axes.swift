/// Frames for pictures of the plane: a title, tick marks with values on both axes, and colour
/// bars that say what a colour means.
public enum Axes {
    static let ink = RGB(40, 40, 40)
    static let tickLength = 4

    /// `plot` (a picture of `[x.lowerBound, x.upperBound] × [y.lowerBound, y.upperBound]`, y up)
    /// framed by a one-pixel border, ticks with their values below and to the left, and `title`
    /// above.
    public static func frame(
        _ plot: RGBImage, title: String, x: ClosedRange<Double>, y: ClosedRange<Double>,
        background: RGB = RGB(255, 255, 255)
    ) -> RGBImage {
        let xTicks = LineChart.niceTicks(x.lowerBound, x.upperBound, count: 5).filter { x.contains($0) }
        let yTicks = LineChart.niceTicks(y.lowerBound, y.upperBound, count: 5).filter { y.contains($0) }
        let step = { (t: [Double]) in t.count > 1 ? t[1] - t[0] : 1 }
        let yLabels = yTicks.map { LineChart.tickLabel($0, step: step(yTicks)) }
        let left = (yLabels.map { BitmapFont.width(of: $0) }.max() ?? 0) + tickLength + 6
        let top = BitmapFont.lineHeight + 8
        let bottom = tickLength + BitmapFont.lineHeight + 6
        let right = 12
        let titleWidth = BitmapFont.width(of: title) + 8
        var out = RGBImage(
            width: Swift.max(left + plot.width + right, titleWidth), height: top + plot.height + bottom, fill: background)
        out.drawText(title, centerX: left + plot.width / 2, y: 3, color: ink)
        out.paste(plot, x: left, y: top)
        out.strokeRectangle(x: left - 1, y: top - 1, width: plot.width + 2, height: plot.height + 2, color: ink)
        func px(_ v: Double) -> Int { left + Int(((v - x.lowerBound) / (x.upperBound - x.lowerBound) * Double(plot.width - 1)).rounded()) }
        func py(_ v: Double) -> Int { top + Int(((y.upperBound - v) / (y.upperBound - y.lowerBound) * Double(plot.height - 1)).rounded()) }
        for t in xTicks {
            let xp = px(t)
            out.fillRectangle(x: xp, y: top + plot.height + 1, width: 1, height: tickLength, color: ink)
            out.drawText(LineChart.tickLabel(t, step: step(xTicks)), centerX: xp + 1, y: top + plot.height + tickLength + 3, color: ink)
        }
        for (t, label) in zip(yTicks, yLabels) {
            let yp = py(t)
            out.fillRectangle(x: left - 1 - tickLength, y: yp, width: tickLength, height: 1, color: ink)
            out.drawText(label, x: left - tickLength - 4 - BitmapFont.width(of: label), y: yp - 3, color: ink)
        }
        return out
    }

    /// A vertical colour bar `height` pixels tall for values in `range` (low at the bottom), with
    /// tick values on its right and `label` above it.
    public static func colorBar(
        height: Int, range: ClosedRange<Double>, label: String, colorMap: ColorMap = .viridis,
        background: RGB = RGB(255, 255, 255)
    ) -> RGBImage {
        let barWidth = 12, top = BitmapFont.lineHeight + 8
        let ticks = LineChart.niceTicks(range.lowerBound, range.upperBound, count: 5).filter { range.contains($0) }
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let labels = ticks.map { LineChart.tickLabel($0, step: step) }
        let width = Swift.max(barWidth + tickLength + 4 + (labels.map { BitmapFont.width(of: $0) }.max() ?? 0), BitmapFont.width(of: label)) + 8
        var out = RGBImage(width: width, height: top + height + BitmapFont.lineHeight + 10, fill: background)
        out.drawText(label, x: 2, y: 3, color: ink)
        let span = range.upperBound > range.lowerBound ? range.upperBound - range.lowerBound : 1
        for r in 0..<height {
            let t = 1 - Double(r) / Double(Swift.max(1, height - 1))
            out.fillRectangle(x: 2, y: top + r, width: barWidth, height: 1, color: colorMap.color(at: t))
        }
        out.strokeRectangle(x: 1, y: top - 1, width: barWidth + 2, height: height + 2, color: ink)
        for (t, text) in zip(ticks, labels) {
            let y = top + Int(((range.upperBound - t) / span * Double(height - 1)).rounded())
            out.fillRectangle(x: 2 + barWidth + 1, y: y, width: tickLength, height: 1, color: ink)
            out.drawText(text, x: 2 + barWidth + tickLength + 3, y: y - 3, color: ink)
        }
        return out
    }
}
