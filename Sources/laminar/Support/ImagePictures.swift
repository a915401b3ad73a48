import Foundation
import Laminar

/// Pictures of image models: sample grids, test images ranked by likelihood, bits/dim
/// histograms.
enum ImagePictures {
    /// `count` samples at `temperature` as a grid PNG; returns the NFE spent.
    @discardableResult
    static func writeSampleGrid(
        flow: AnyFlow<Float>, preprocessing: ImagePreprocessing, height: Int, width: Int, count: Int,
        temperature: Double, seed: UInt64, path: String
    ) throws -> Int {
        var rng = RandomGenerator(seed: seed)
        var z = Tensor<Float>.randomNormal([count, flow.dimension], using: &rng)
        if temperature != 1 { z = z * Float(temperature) }
        let (x, nfe) = try flow.sampleTransport(z)
        let pixels = preprocessing.pixels(x)
        let d = height * width
        let images = (0..<count).map { Array(pixels[($0 * d)..<(($0 + 1) * d)]) }
        let columns = Int(Double(count).squareRoot().rounded(.up))
        try PNG.write(ImageGrid.render(images, height: height, width: width, columns: columns, scale: 2), to: path)
        return nfe
    }

    /// The `perRow × rows` most and least likely images with their bits/dim.
    static func writeRanked(
        data: ImageDataset, indices: [Int], bitsPerDimension: [Double], rows: Int, perRow: Int, path: String
    ) throws {
        let order = indices.indices.sorted { bitsPerDimension[$0] < bitsPerDimension[$1] }
        let k = min(rows * perRow, order.count)
        func panel(_ positions: ArraySlice<Int>, _ title: String) -> RGBImage {
            let images = positions.map { p -> [Double] in
                let i = indices[p], d = data.pixelsPerImage
                return data.images[(i * d)..<((i + 1) * d)].map { Double($0) / 255 }
            }
            let values = positions.map { bitsPerDimension[$0] }
            let caption = String(format: "%@ (%.2f to %.2f bits/dim)", title, values.min() ?? 0, values.max() ?? 0)
            return ImageGrid.captioned(
                ImageGrid.render(images, height: data.height, width: data.width, columns: perRow, scale: 2), caption)
        }
        let most = panel(order.prefix(k), "most likely \(k) of \(order.count)")
        let least = panel(order.suffix(k).reversed()[...], "least likely \(k)")
        try PNG.write(ImageGrid.vertical([most, least], gap: 10), to: path)
    }

    /// A bar histogram of the per-image bits/dim.
    static func writeHistogram(_ values: [Double], title: String, path: String, bins: Int? = nil) throws {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return }
        let bins = bins ?? min(40, max(10, finite.count / 25))
        try PNG.write(
            BarChart.histogram(finite, bins: bins, title: title, xLabel: "bits/dim", yLabel: "images"), to: path)
    }
}
