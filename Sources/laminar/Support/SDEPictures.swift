import Foundation
import Laminar

/// Sample paths of one-dimensional SDE solutions, one panel per set, on shared axes: up to 40
/// paths per panel as thin lines, and the per-time mean ± one standard deviation as thick ones.
enum SDEPictures {
    static func pathPanels(times: [Double], panels: [(String, [[Double]])]) -> RGBImage {
        let (width, height) = (420, 320)
        let (left, right, top, bottom) = (46, width - 12, 28, height - 30)
        let values = panels.flatMap { $0.1.prefix(40).flatMap { $0 } }.filter(\.isFinite)
        let yLo = Swift.min(0, values.min() ?? 0), yHi = Swift.max(1, values.max() ?? 1)
        let (tLo, tHi) = (times.first ?? 0, Swift.max(times.last ?? 1, (times.first ?? 0) + 1e-9))
        func px(_ t: Double, _ y: Double) -> (Double, Double) {
            (Double(left) + (t - tLo) / (tHi - tLo) * Double(right - left),
             Double(bottom) - (y - yLo) / (yHi - yLo) * Double(bottom - top))
        }
        var images: [RGBImage] = []
        for (title, paths) in panels {
            var image = RGBImage(width: width, height: height)
            image.strokeRectangle(x: left, y: top, width: right - left, height: bottom - top, color: RGB(180, 180, 180))
            image.drawText(title, x: left, y: 8, color: RGB(40, 40, 40))
            image.drawText(String(format: "%.1f", yHi), x: 4, y: top - 4, color: RGB(90, 90, 90))
            image.drawText(String(format: "%.1f", yLo), x: 4, y: bottom - 8, color: RGB(90, 90, 90))
            image.drawText(String(format: "t = %.0f", tLo), x: left, y: bottom + 8, color: RGB(90, 90, 90))
            image.drawText(String(format: "t = %.0f", tHi), x: right - 40, y: bottom + 8, color: RGB(90, 90, 90))
            func line(_ ys: [Double], _ color: RGB, _ thickness: Int) {
                for k in 1..<Swift.min(times.count, ys.count) where ys[k - 1].isFinite && ys[k].isFinite {
                    let (a, b) = (px(times[k - 1], ys[k - 1]), px(times[k], ys[k]))
                    image.drawLine(x0: a.0, y0: a.1, x1: b.0, y1: b.1, color: color, thickness: thickness, dash: 0)
                }
            }
            for path in paths.prefix(40) { line(path, RGB(150, 190, 225), 1) }
            let n = Double(paths.count)
            let mean = times.indices.map { k in paths.reduce(0) { $0 + $1[k] } / n }
            let std = times.indices.map { k in (paths.reduce(0) { $0 + ($1[k] - mean[k]) * ($1[k] - mean[k]) } / Swift.max(1, n - 1)).squareRoot() }
            line(mean, RGB(20, 60, 140), 2)
            line(zip(mean, std).map { $0 + $1 }, RGB(214, 39, 40), 2)
            line(zip(mean, std).map { $0 - $1 }, RGB(214, 39, 40), 2)
            images.append(image)
        }
        var canvas = RGBImage.horizontal(images)
        let legend = "thin: sample paths   blue: mean over all paths   red: mean +- 1 sd"
        var framed = RGBImage(width: canvas.width, height: canvas.height + 22)
        framed.paste(canvas, x: 0, y: 0)
        framed.drawText(legend, x: 8, y: canvas.height + 4, color: RGB(60, 60, 60))
        canvas = framed
        return canvas
    }
}
