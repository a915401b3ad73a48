import Foundation
import Laminar

/// What the commands draw: they choose the content; `LaminarImaging` draws it.
enum Pictures {
    /// Density picture: the model's density (probability, not log) on its grid, with the data's
    /// true density on the left when it is known in closed form.
    static func writeDensity(_ grid: DensityGrid, truth toy: ToyDataset?, path: String) throws {
        let scale = max(1, 400 / grid.resolution)
        var panels: [RGBImage] = []
        if let toy, toy.logDensity(x: 0, y: 0) != nil {
            let truth = DensityGrid.tabulate(low: grid.low, high: grid.high, resolution: grid.resolution) {
                toy.logDensity(x: $0, y: $1)!
            }
            panels.append(Heatmap.render(truth.logDensity.map(exp), rows: grid.resolution, cols: grid.resolution, scale: scale))
        }
        panels.append(Heatmap.render(grid.logDensity.map(exp), rows: grid.resolution, cols: grid.resolution, scale: scale))
        try PNG.write(RGBImage.horizontal(panels), to: path)
    }

    /// 2-D histogram of samples over [−range, range]².
    static func writeSamples(_ points: Tensor<Float>, range: Double, path: String) throws {
        try PNG.write(histogram(points, range: range), to: path)
    }

    static func histogram(_ points: Tensor<Float>, range: Double) -> RGBImage {
        let n = points.shape[0]
        let v = points.scalars
        return Heatmap.histogram(
            x: (0..<n).map { Double(v[2 * $0]) }, y: (0..<n).map { Double(v[2 * $0 + 1]) },
            low: -range, high: range, bins: 100, scale: 4)
    }

    /// One histogram PNG per snapshot, `frame-000.png` …; returns the number written.
    static func writeTrajectory(_ snapshots: [Tensor<Float>], range: Double, directory: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (i, s) in snapshots.enumerated() {
            try PNG.write(histogram(s, range: range), to: "\(directory)/frame-\(String(format: "%03d", i)).png")
        }
        return snapshots.count
    }

    /// After training: `density.png` (truth | model) and `samples.png` in the run directory.
    static func writeToyPictures(flow: AnyFlow<Float>, toy: ToyDataset?, directory: URL, seed: UInt64) throws -> [String] {
        let densityPath = directory.appendingPathComponent("density.png").path
        let grid = try DensityGrid.evaluate(flow, low: -4, high: 4, resolution: 100)
        try writeDensity(grid, truth: toy, path: densityPath)
        var rng = RandomGenerator(seed: seed &+ 1)
        let z = Tensor<Float>.randomNormal([20_000, 2], using: &rng)
        let (x, _) = try flow.sampleTransport(z)
        let samplesPath = directory.appendingPathComponent("samples.png").path
        try writeSamples(x, range: 4, path: samplesPath)
        return [densityPath, samplesPath]
    }
}
