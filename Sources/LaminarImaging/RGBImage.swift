/// An 8-bit RGB picture, row-major from the top-left corner.
public struct RGBImage: Sendable, Equatable {
    /// Columns, in pixels.
    public let width: Int
    /// Rows, in pixels.
    public let height: Int
    /// `3 · width · height` bytes: R, G, B of each pixel.
    public var pixels: [UInt8]

    /// A picture filled with one colour.
    public init(width: Int, height: Int, fill: RGB = RGB(255, 255, 255)) {
        precondition(width > 0 && height > 0, "RGBImage: size \(width)×\(height) must be positive")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: 3 * width * height)
        for i in 0..<(width * height) {
            pixels[3 * i] = fill.r
            pixels[3 * i + 1] = fill.g
            pixels[3 * i + 2] = fill.b
        }
    }

    /// The pixel in column `x` and row `y` (row 0 at the top); both must lie inside the picture.
    public subscript(x: Int, y: Int) -> RGB {
        get {
            let i = 3 * (y * width + x)
            return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = 3 * (y * width + x)
            pixels[i] = newValue.r
            pixels[i + 1] = newValue.g
            pixels[i + 2] = newValue.b
        }
    }

    /// Copies `other` with its top-left corner at (x, y), clipped to this picture.
    public mutating func paste(_ other: RGBImage, x: Int, y: Int) {
        for j in 0..<other.height where y + j >= 0 && y + j < height {
            for i in 0..<other.width where x + i >= 0 && x + i < width {
                self[x + i, y + j] = other[i, j]
            }
        }
    }

    /// Fills a rectangle, clipped.
    public mutating func fillRectangle(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
        let (x0, x1) = (Swift.max(0, x), Swift.min(width, x + w))
        let (y0, y1) = (Swift.max(0, y), Swift.min(height, y + h))
        guard x0 < x1, y0 < y1 else { return }
        for j in y0..<y1 {
            for i in x0..<x1 { self[i, j] = color }
        }
    }

    /// Pictures side by side with `gap` pixels of `background` between them (top-aligned).
    public static func horizontal(_ images: [RGBImage], gap: Int = 8, background: RGB = RGB(255, 255, 255)) -> RGBImage {
        precondition(!images.isEmpty, "RGBImage.horizontal: no images")
        let width = images.reduce(0) { $0 + $1.width } + gap * (images.count - 1)
        let height = images.map(\.height).max()!
        var out = RGBImage(width: width, height: height, fill: background)
        var x = 0
        for image in images {
            out.paste(image, x: x, y: 0)
            x += image.width + gap
        }
        return out
    }
}

/// A colour.
public struct RGB: Sendable, Equatable, Hashable {
    /// Red, green and blue intensities, 0–255.
    public var r, g, b: UInt8
    /// A colour from its red, green and blue intensities.
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }
}
