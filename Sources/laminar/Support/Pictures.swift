import Foundation
import Laminar

/// What the commands draw: they choose the content; `LaminarImaging` draws it.
enum Pictures {
    /// Density picture: the data's true density on the left when it is known in closed form, the
    /// model's density on the right, both framed with axes, titled, on one colour scale with a
    /// colour bar (probability density, not log).
    static func writeDensity(_ grid: DensityGrid, truth toy: ToyDataset?, modelName: String, path: String) throws {
        let scale = max(1, 400 / grid.resolution)
        var fields: [(String, [Double])] = []
        if let toy, toy.logDensity(x: 0, y: 0) != nil {
            let truth = DensityGrid.tabulate(low: grid.low, high: grid.high, resolution: grid.resolution) {
                toy.logDensity(x: $0, y: $1) ?? -.infinity
            }
            fields.append(("data: true density of \(toy.rawValue)", truth.logDensity.map(exp)))
        }
        fields.append(("model: \(modelName) density", grid.logDensity.map(exp)))
        let top = fields.flatMap(\.1).filter(\.isFinite).max() ?? 1
        let range = 0...max(top, 1e-12)
        let axis = grid.low...grid.high
        var panels = fields.map { title, values in
            Axes.frame(
                Heatmap.render(values, rows: grid.resolution, cols: grid.resolution, range: range, scale: scale),
                title: title, x: axis, y: axis)
        }
        panels.append(Axes.colorBar(height: grid.resolution * scale, range: range, label: "density"))
        try PNG.write(RGBImage.horizontal(panels), to: path)
    }

    /// 2-D histogram of samples over [−range, range]², framed, with a colour bar of counts.
    static func writeSamples(_ points: Tensor<Float>, range: Double, title: String, path: String) throws {
        try PNG.write(histogram(points, range: range, title: title), to: path)
    }

    static func histogram(_ points: Tensor<Float>, range: Double, title: String) -> RGBImage {
        let n = points.shape[0]
        let v = points.scalars
        let bins = 100, scale = 4
        let counts = Heatmap.histogramCounts(
            x: (0..<n).map { Double(v[2 * $0]) }, y: (0..<n).map { Double(v[2 * $0 + 1]) },
            low: -range, high: range, bins: bins)
        let plot = Heatmap.render(counts.values, rows: bins, cols: bins, range: 0...counts.clip, scale: scale)
        let axis = -range...range
        return RGBImage.horizontal([
            Axes.frame(plot, title: title, x: axis, y: axis),
            Axes.colorBar(height: bins * scale, range: 0...counts.clip, label: "samples per bin"),
        ])
    }

    /// One framed histogram PNG per snapshot, `frame-000.png` …, titled with its time stamp;
    /// returns the paths written.
    static func writeTrajectory(_ snapshots: [Tensor<Float>], labels: [String], range: Double, directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = cleanPath(directory)
        var written: [String] = []
        for (i, s) in snapshots.enumerated() {
            let path = "\(base)/frame-\(String(format: "%03d", i)).png"
            let label = i < labels.count ? labels[i] : "frame \(i)"
            try PNG.write(histogram(s, range: range, title: label), to: path)
            written.append(path)
        }
        return written
    }

    /// After training: `density.png` (truth | model) and `samples.png` in the run directory.
    static func writeToyPictures(
        flow: AnyFlow<Float>, modelName: String, toy: ToyDataset?, directory: URL, seed: UInt64
    ) throws -> [String] {
        let densityPath = directory.appendingPathComponent("density.png").path
        let grid = try DensityGrid.evaluate(flow, low: -4, high: 4, resolution: 100)
        try writeDensity(grid, truth: toy, modelName: modelName, path: densityPath)
        var rng = RandomGenerator(seed: seed &+ 1)
        let z = Tensor<Float>.randomNormal([20_000, 2], using: &rng)
        let (x, _) = try flow.sampleTransport(z)
        let samplesPath = directory.appendingPathComponent("samples.png").path
        try writeSamples(x, range: 4, title: "20000 samples of the model", path: samplesPath)
        return [densityPath, samplesPath]
    }
}
