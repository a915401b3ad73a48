import Foundation
import Testing
import LaminarImaging

@Suite struct PNGTests {
    func directory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("laminar-png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writeThenReadIsBitExact() throws {
        var image = RGBImage(width: 7, height: 5)
        for y in 0..<5 { for x in 0..<7 { image[x, y] = RGB(UInt8(x * 30), UInt8(y * 50), UInt8((x * y) % 256)) } }
        let path = try directory().appendingPathComponent("a.png").path
        try PNG.write(image, to: path)
        #expect(try PNG.read(path) == image)
    }

    @Test func missingDirectoryIsATypedErrorAndWritesNothing() throws {
        #expect(throws: ImagingError.directoryMissing("/nonexistent-laminar")) {
            try PNG.write(RGBImage(width: 2, height: 2), to: "/nonexistent-laminar/a.png")
        }
        let dir = try directory()
        #expect(throws: ImagingError.self) { try PNG.read(dir.appendingPathComponent("none.png").path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func colorMapHitsItsEndsAndIsMonotoneInLuminance() {
        let map = ColorMap.viridis
        #expect(map.color(at: 0) == RGB(68, 1, 84))
        #expect(map.color(at: 1) == RGB(253, 231, 37))
        let luminance = (0...100).map { i -> Double in
            let c = map.color(at: Double(i) / 100)
            return 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b)
        }
        #expect(zip(luminance, luminance.dropFirst()).allSatisfy { $0 <= $1 + 1 })
    }

    @Test func heatmapRowZeroIsTheTop() {
        var values = [Double](repeating: 0, count: 9)
        values[1] = 1  // row 0, column 1
        let image = Heatmap.render(values, rows: 3, cols: 3, scale: 2)
        #expect(image[2, 0] == ColorMap.viridis.color(at: 1))
        #expect(image[2, 5] == ColorMap.viridis.color(at: 0))
    }

    @Test func histogramBinsLandWherePointsAre() {
        // One point in the top-right quadrant of [-1, 1]², drawn on 2 × 2 bins.
        let image = Heatmap.histogram(x: [0.5], y: [0.5], low: -1, high: 1, bins: 2, scale: 1)
        #expect(image[1, 0] == ColorMap.viridis.color(at: 1))
        #expect(image[0, 1] == ColorMap.viridis.color(at: 0))
    }

    /// Shapes entirely outside the image are clipped away, never trap.
    @Test func drawingOutsideTheImageIsClipped() {
        var image = RGBImage(width: 10, height: 10)
        image.fillRectangle(x: 50, y: 2, width: 18, height: 4, color: RGB(0, 0, 0))
        image.fillRectangle(x: -40, y: -40, width: 5, height: 5, color: RGB(0, 0, 0))
        image.drawMarker(x: 200, y: 5, square: false, color: RGB(0, 0, 0))
        image.drawText("outside", x: 30, y: 30)
        #expect(image == RGBImage(width: 10, height: 10))
    }
}
