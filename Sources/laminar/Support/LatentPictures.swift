import Foundation
import Laminar

/// The paper's Figure-8-style picture of a latent model: one panel per series with the true
/// trajectory (grey, when known), the observations (black), the model's reconstruction over
/// the observed window (blue) and its extrapolation after it (red, dashed). Two-feature data is
/// drawn in its plane (equal scales), one-feature data against time; every panel has axes with
/// tick values and a title naming its series and what is plotted.
enum LatentPictures {
    static let truthColor = RGB(170, 170, 170), observedColor = RGB(20, 20, 20)
    static let reconstructionColor = RGB(31, 119, 180), extrapolationColor = RGB(214, 39, 40)
    static let sampleColor = RGB(150, 200, 235)

    static func panels(model: any SeriesModel<Float>, examples: [SeriesExample], spirals: SpiralDataset?, samplePaths: Int = 0) throws -> RGBImage {
        let dense = 120
        let queries: [[Double]] = examples.map { e in
            let end = max(e.extrapolation.times.last ?? e.windowEnd, e.windowEnd)
            return (0..<dense).map { Double($0) * e.windowEnd / Double(dense - 1) }
                + (1...dense).map { e.windowEnd + Double($0) * (end - e.windowEnd) / Double(dense) }.filter { $0 > e.windowEnd }
        }
        let predictions = try model.predict(examples, at: queries)
        // A latent SDE also shows posterior sample paths (thin, light) under its mean.
        let samples = try (model as? LatentSDE<Float>).map { try $0.samples(examples, at: queries, count: samplePaths, seed: 7) }
        let size = 300
        var panels: [RGBImage] = []
        for (b, example) in examples.enumerated() {
            let planar = example.observed.featureCount >= 2
            func point(_ t: Double, _ v: [Double]) -> (Double, Double) { planar ? (v[0], v[1]) : (t, v[0]) }
            let reconstruction = zip(queries[b], predictions[b]).filter { $0.0 <= example.windowEnd }.map { point($0.0, $0.1) }
            let extrapolation = zip(queries[b], predictions[b]).filter { $0.0 >= example.windowEnd }.map { point($0.0, $0.1) }
            let observed = example.observed.times.indices.map { point(example.observed.times[$0], example.observed.values[$0]) }
            var truth: [(Double, Double)] = []
            var truthMarkers: [(Double, Double)] = []
            if let spirals, let index = spirals.examples.firstIndex(where: { $0.observed.id == example.observed.id }) {
                truth = queries[b].map { t in let p = spirals.truth(series: index, at: t); return point(t, [p.0, p.1]) }
            } else {
                truthMarkers = example.extrapolation.times.indices.map { point(example.extrapolation.times[$0], example.extrapolation.values[$0]) }
            }
            func finite(_ p: (Double, Double)) -> Bool { p.0.isFinite && p.1.isFinite && Swift.abs(p.0) < 1e9 && Swift.abs(p.1) < 1e9 }
            let all = (truth + truthMarkers + observed + reconstruction + extrapolation).filter(finite)
            var xLo = all.map(\.0).min() ?? -1, xHi = all.map(\.0).max() ?? 1
            var yLo = all.map(\.1).min() ?? -1, yHi = all.map(\.1).max() ?? 1
            if planar {
                // The plane at equal scales, so that a spiral looks like one.
                let span = max(xHi - xLo, yHi - yLo, 1e-6) * 1.1
                let (cx, cy) = ((xLo + xHi) / 2, (yLo + yHi) / 2)
                (xLo, xHi, yLo, yHi) = (cx - span / 2, cx + span / 2, cy - span / 2, cy + span / 2)
            } else {
                // Time and value have their own units: each axis gets its own padded range.
                let (xPad, yPad) = (max(xHi - xLo, 1e-6) * 0.05, max(yHi - yLo, 1e-6) * 0.08)
                (xLo, xHi, yLo, yHi) = (xLo - xPad, xHi + xPad, yLo - yPad, yHi + yPad)
            }
            var image = RGBImage(width: size, height: size)
            func px(_ p: (Double, Double)) -> (Double, Double) {
                ((p.0 - xLo) / (xHi - xLo) * Double(size - 1), (1 - (p.1 - yLo) / (yHi - yLo)) * Double(size - 1))
            }
            func polyline(_ points: [(Double, Double)], _ color: RGB, dash: Int = 0) {
                for (a, c) in zip(points, points.dropFirst()) where a.0.isFinite && a.1.isFinite && c.0.isFinite && c.1.isFinite {
                    let (p, q) = (px(a), px(c))
                    image.drawLine(x0: p.0, y0: p.1, x1: q.0, y1: q.1, color: color, thickness: 2, dash: dash)
                }
            }
            polyline(truth, truthColor)
            for path in samples?[b] ?? [] {
                let points = zip(queries[b], path).map { point($0.0, $0.1) }
                for (a, c) in zip(points, points.dropFirst()) where a.0.isFinite && a.1.isFinite && c.0.isFinite && c.1.isFinite {
                    let (p, q) = (px(a), px(c))
                    image.drawLine(x0: p.0, y0: p.1, x1: q.0, y1: q.1, color: sampleColor, thickness: 1, dash: 0)
                }
            }
            for m in truthMarkers where finite(m) { let p = px(m); image.drawMarker(x: Int(p.0), y: Int(p.1), size: 5, square: true, color: truthColor) }
            polyline(reconstruction, reconstructionColor)
            polyline(extrapolation, extrapolationColor, dash: 6)
            for o in observed where finite(o) { let p = px(o); image.drawMarker(x: Int(p.0), y: Int(p.1), size: 5, square: false, color: observedColor) }
            let axes = planar ? "x2 against x1" : "value against time"
            panels.append(Axes.frame(image, title: "series \(example.observed.id): \(axes)", x: xLo...xHi, y: yLo...yHi))
        }
        // Every framed panel on a cell of the same size (tick labels make their margins differ).
        let cellWidth = (panels.map(\.width).max() ?? size) + 8, cellHeight = (panels.map(\.height).max() ?? size) + 8
        let columns = min(3, panels.count)
        let rowCount = (panels.count + columns - 1) / columns
        let legendWidth = 600
        let width = Swift.max(columns * cellWidth, legendWidth)
        let legendHeight = 28
        var canvas = RGBImage(width: width, height: rowCount * cellHeight + legendHeight)
        for (k, panel) in panels.enumerated() {
            canvas.paste(panel, x: (k % columns) * cellWidth + (cellWidth - panel.width) / 2, y: (k / columns) * cellHeight + 4)
        }
        var x = 8
        let y = rowCount * cellHeight + 8
        for (label, color) in [
            ("truth", truthColor), ("observed", observedColor), ("reconstruction", reconstructionColor),
            ("extrapolation", extrapolationColor),
        ] + (samples == nil ? [] : [("sample paths", sampleColor)]) {
            canvas.fillRectangle(x: x, y: y + 3, width: 18, height: 4, color: color)
            canvas.drawText(label, x: x + 24, y: y, color: RGB(40, 40, 40))
            x += 24 + BitmapFont.width(of: label) + 24
        }
        canvas.drawText("model: \(model.configuration.kind.rawValue)", x: x + 10, y: y, color: RGB(40, 40, 40))
        return canvas
    }
}
