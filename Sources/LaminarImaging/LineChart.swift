import Foundation

/// One line of a ``LineChart``.
public struct ChartSeries: Sendable {
    /// Label in the legend.
    public var name: String
    /// x coordinates of the points (in data units; the chart chooses the axis range).
    public var xs: [Double]
    /// y coordinates of the points, one per `xs` entry.
    public var ys: [Double]
    /// Line and marker colour (e.g. from ``LineChart/palette``).
    public var color: RGB
    /// Draws the line dashed.
    public var dashed: Bool
    /// Square markers (else diamonds).
    public var squareMarkers: Bool
    /// A label drawn next to each point (e.g. the tolerance it was measured at), or none.
    public var pointLabels: [String]?

    /// A series through the points `(xs[i], ys[i])`: a solid line with diamond markers and no point
    /// labels unless told otherwise.
    public init(
        name: String, xs: [Double], ys: [Double], color: RGB, dashed: Bool = false, squareMarkers: Bool = false,
        pointLabels: [String]? = nil
    ) {
        self.pointLabels = pointLabels
        self.name = name
        self.xs = xs
        self.ys = ys
        self.color = color
        self.dashed = dashed
        self.squareMarkers = squareMarkers
    }
}

/// Line charts with axes, ticks, labels and a legend, drawn with ``BitmapFont``.
public enum LineChart {
    /// A qualitative palette for series.
    public static let palette: [RGB] = [
        RGB(31, 119, 180), RGB(214, 39, 40), RGB(44, 160, 44), RGB(148, 103, 189), RGB(255, 127, 14),
        RGB(23, 190, 207), RGB(140, 86, 75), RGB(127, 127, 127),
    ]

    /// Renders the series. With `logX` the x axis is logarithmic (base 2) and ticks sit at the
    /// data's x values. The y axis covers the data and `yRange` when given (e.g. `0...30` for an
    /// error in percent, so that a difference of 0.02 points does not fill the chart). Non-finite
    /// points are skipped.
    public static func render(
        title: String, xLabel: String, yLabel: String, series: [ChartSeries], logX: Bool = false,
        yRange: ClosedRange<Double>? = nil, width: Int = 720, height: Int = 440
    ) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        let legendWidth = 12 + (series.map { BitmapFont.width(of: $0.name) }.max() ?? 0) + 40
        let left = 72, right = width - legendWidth - 10, top = 34, bottom = height - 52
        let tx: (Double) -> Double = { logX ? Foundation.log2($0) : $0 }
        let points = series.flatMap { s in zip(s.xs, s.ys).filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) } }
        image.drawText(title, centerX: (left + right) / 2, y: 10, scale: 1)
        guard !points.isEmpty, right > left + 20 else { return image }
        var xLo = points.map { tx($0.0) }.min()!, xHi = points.map { tx($0.0) }.max()!
        var yLo = points.map(\.1).min()!, yHi = points.map(\.1).max()!
        if let yRange { (yLo, yHi) = (Swift.min(yLo, yRange.lowerBound), Swift.max(yHi, yRange.upperBound)) }
        if xHi == xLo { xLo -= 1; xHi += 1 }
        if yHi == yLo { yLo -= 1; yHi += 1 }
        let yTicks = niceTicks(yLo, yHi, count: 5)
        yLo = Swift.min(yLo, yTicks.first!)
        yHi = Swift.max(yHi, yTicks.last!)
        let xPad = 0.05 * (xHi - xLo)
        xLo -= xPad
        xHi += xPad
        func px(_ x: Double) -> Double { Double(left) + (tx(x) - xLo) / (xHi - xLo) * Double(right - left) }
        func py(_ y: Double) -> Double { Double(bottom) - (y - yLo) / (yHi - yLo) * Double(bottom - top) }
        let axis = RGB(60, 60, 60), grid = RGB(225, 225, 225)
        for t in yTicks {
            let y = Int(py(t).rounded())
            image.fillRectangle(x: left, y: y, width: right - left, height: 1, color: grid)
            let label = tickLabel(t, step: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1)
            image.drawText(label, x: left - 6 - BitmapFont.width(of: label), y: y - 3, color: axis)
        }
        let xTicks: [Double] = logX
            ? Array(Set(points.map(\.0))).sorted()
            : niceTicks(xLo, xHi, count: 6)
        for t in xTicks {
            let x = Int(px(t).rounded())
            guard x >= left, x <= right else { continue }
            image.fillRectangle(x: x, y: top, width: 1, height: bottom - top, color: grid)
            let label = logX ? String(Int(t)) : tickLabel(t, step: xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1)
            image.drawText(label, centerX: x, y: bottom + 6, color: axis)
        }
        image.fillRectangle(x: left, y: top, width: 1, height: bottom - top + 1, color: axis)
        image.fillRectangle(x: left, y: bottom, width: right - left + 1, height: 1, color: axis)
        image.drawText(xLabel, centerX: (left + right) / 2, y: bottom + 24, color: axis)
        image.drawText(yLabel, x: 4, y: top - 16, color: axis)
        for s in series {
            let pts = zip(s.xs, s.ys).filter { $0.0.isFinite && $0.1.isFinite && (!logX || $0.0 > 0) }
                .map { (px($0.0), py($0.1)) }
            for (a, b) in zip(pts, pts.dropFirst()) {
                image.drawLine(x0: a.0, y0: a.1, x1: b.0, y1: b.1, color: s.color, thickness: 2, dash: s.dashed ? 6 : 0)
            }
            for p in pts {
                image.drawMarker(x: Int(p.0.rounded()), y: Int(p.1.rounded()), size: 9, square: s.squareMarkers, color: s.color)
            }
            if let labels = s.pointLabels {
                let labelled = zip(zip(s.xs, s.ys), labels).filter { $0.0.0.isFinite && $0.0.1.isFinite && (!logX || $0.0.0 > 0) }
                for ((x, y), label) in labelled {
                    image.drawText(label, x: Int(px(x).rounded()) + 7, y: Int(py(y).rounded()) - 12, color: s.color)
                }
            }
        }
        var ly = top + 4
        for s in series {
            let lx = right + 16
            image.drawLine(x0: Double(lx), y0: Double(ly + 3), x1: Double(lx + 24), y1: Double(ly + 3), color: s.color, thickness: 2, dash: s.dashed ? 5 : 0)
            image.drawMarker(x: lx + 12, y: ly + 3, size: 7, square: s.squareMarkers, color: s.color)
            image.drawText(s.name, x: lx + 32, y: ly, color: axis)
            ly += 16
        }
        return image
    }

    /// About `count` round tick values covering `[lo, hi]`.
    static func niceTicks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
        let raw = (hi - lo) / Double(Swift.max(1, count - 1))
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = Foundation.floor(lo / step) * step
        var ticks: [Double] = []
        var t = first
        while t <= hi + step * 0.999 && ticks.count < 20 {
            ticks.append(t)
            t += step
        }
        return ticks
    }

    /// `v` with as many decimals as the tick step needs (2.5 → one, 0.25 → two).
    static func tickLabel(_ v: Double, step: Double) -> String {
        var decimals = Swift.max(0, Swift.min(4, Int(-Foundation.floor(Foundation.log10(Swift.abs(step)) + 1e-9))))
        func scaled(_ d: Int) -> Double { Swift.abs(step) * Foundation.pow(10, Double(d)) }
        while decimals < 4, Swift.abs(scaled(decimals) - scaled(decimals).rounded()) > 1e-6 * Swift.max(1, scaled(decimals)) {
            decimals += 1
        }
        return String(format: "%.\(decimals)f", Swift.abs(v) < step * 1e-6 ? 0 : v)
    }
}
