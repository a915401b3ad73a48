/// Grids of grey-scale images (samples, ranked test images).
public enum ImageGrid {
    /// Images of `height × width` intensities in [0, 1] (row-major, 0 = black) laid out in
    /// `columns` columns, each pixel drawn as a `scale × scale` square, `gap` pixels apart.
    public static func render(
        _ images: [[Double]], height: Int, width: Int, columns: Int, scale: Int = 2, gap: Int = 2,
        background: RGB = RGB(255, 255, 255)
    ) -> RGBImage {
        precondition(height > 0 && width > 0 && columns > 0 && scale > 0, "ImageGrid: sizes must be positive")
        let rows = (images.count + columns - 1) / columns
        let cell = (w: width * scale + gap, h: height * scale + gap)
        var out = RGBImage(width: max(1, columns * cell.w + gap), height: max(1, rows * cell.h + gap), fill: background)
        for (k, image) in images.enumerated() {
            precondition(image.count == height * width, "ImageGrid: image \(k) has \(image.count) pixels, expected \(height * width)")
            let x0 = gap + (k % columns) * cell.w, y0 = gap + (k / columns) * cell.h
            for r in 0..<height {
                for c in 0..<width {
                    let v = image[r * width + c]
                    let level = UInt8(max(0, min(255, (v.isFinite ? v : 0) * 255).rounded()))
                    out.fillRectangle(x: x0 + c * scale, y: y0 + r * scale, width: scale, height: scale, color: RGB(level, level, level))
                }
            }
        }
        return out
    }

    /// `image` with a caption line above it.
    public static func captioned(_ image: RGBImage, _ caption: String, background: RGB = RGB(255, 255, 255)) -> RGBImage {
        let top = BitmapFont.lineHeight + 6
        var out = RGBImage(width: max(image.width, BitmapFont.width(of: caption) + 8), height: image.height + top, fill: background)
        out.drawText(caption, x: 4, y: 3)
        out.paste(image, x: 0, y: top)
        return out
    }

    /// Images stacked top to bottom.
    public static func vertical(_ images: [RGBImage], gap: Int = 6, background: RGB = RGB(255, 255, 255)) -> RGBImage {
        let width = images.map(\.width).max() ?? 1
        let height = images.map(\.height).reduce(0, +) + gap * max(0, images.count - 1)
        var out = RGBImage(width: width, height: max(1, height), fill: background)
        var y = 0
        for image in images {
            out.paste(image, x: 0, y: y)
            y += image.height + gap
        }
        return out
    }
}
