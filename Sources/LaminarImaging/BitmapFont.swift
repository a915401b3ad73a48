/// A 5×7 pixel font for labels on charts and panel grids: digits, upper- and lower-case Latin
/// letters, and the punctuation that numbers and labels need.
public enum BitmapFont {
    /// Glyph cell size, including one column and one row of spacing.
    public static let advance = 6
    /// Vertical distance between lines of text: the 7-pixel glyph and two rows of spacing.
    public static let lineHeight = 9

    /// Each glyph: 7 rows of 5 pixels, `#` set.
    static let glyphs: [Character: [String]] = {
        let table: [(Character, String)] = [
            ("0", ".###. #...# #..## #.#.# ##..# #...# .###."),
            ("1", "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
            ("2", ".###. #...# ....# ...#. ..#.. .#... #####"),
            ("3", "##### ...#. ..#.. ...#. ....# #...# .###."),
            ("4", "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
            ("5", "##### #.... ####. ....# ....# #...# .###."),
            ("6", "..##. .#... #.... ####. #...# #...# .###."),
            ("7", "##### ....# ...#. ..#.. .#... .#... .#..."),
            ("8", ".###. #...# #...# .###. #...# #...# .###."),
            ("9", ".###. #...# #...# .#### ....# ...#. .##.."),
            ("A", ".###. #...# #...# ##### #...# #...# #...#"),
            ("B", "####. #...# #...# ####. #...# #...# ####."),
            ("C", ".###. #...# #.... #.... #.... #...# .###."),
            ("D", "###.. #..#. #...# #...# #...# #..#. ###.."),
            ("E", "##### #.... #.... ####. #.... #.... #####"),
            ("F", "##### #.... #.... ####. #.... #.... #...."),
            ("G", ".###. #...# #.... #.### #...# #...# .####"),
            ("H", "#...# #...# #...# ##### #...# #...# #...#"),
            ("I", ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
            ("J", "..### ...#. ...#. ...#. ...#. #..#. .##.."),
            ("K", "#...# #..#. #.#.. ##... #.#.. #..#. #...#"),
            ("L", "#.... #.... #.... #.... #.... #.... #####"),
            ("M", "#...# ##.## #.#.# #.#.# #...# #...# #...#"),
            ("N", "#...# #...# ##..# #.#.# #..## #...# #...#"),
            ("O", ".###. #...# #...# #...# #...# #...# .###."),
            ("P", "####. #...# #...# ####. #.... #.... #...."),
            ("Q", ".###. #...# #...# #...# #.#.# #..#. .##.#"),
            ("R", "####. #...# #...# ####. #.#.. #..#. #...#"),
            ("S", ".#### #.... #.... .###. ....# ....# ####."),
            ("T", "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
            ("U", "#...# #...# #...# #...# #...# #...# .###."),
            ("V", "#...# #...# #...# #...# #...# .#.#. ..#.."),
            ("W", "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."),
            ("X", "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
            ("Y", "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."),
            ("Z", "##### ....# ...#. ..#.. .#... #.... #####"),
            (".", "..... ..... ..... ..... ..... .##.. .##.."),
            (",", "..... ..... ..... ..... .##.. ..#.. .#..."),
            (":", "..... .##.. .##.. ..... .##.. .##.. ....."),
            ("-", "..... ..... ..... ##### ..... ..... ....."),
            ("+", "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
            ("=", "..... ..... ##### ..... ##### ..... ....."),
            ("(", "...#. ..#.. .#... .#... .#... ..#.. ...#."),
            (")", ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
            ("/", "..... ....# ...#. ..#.. .#... #.... ....."),
            ("%", "##... ##..# ...#. ..#.. .#... #..## ...##"),
            ("_", "..... ..... ..... ..... ..... ..... #####"),
            ("×", "..... #...# .#.#. ..#.. .#.#. #...# ....."),
            ("'", "..#.. ..#.. .#... ..... ..... ..... ....."),
            ("<", "...#. ..#.. .#... #.... .#... ..#.. ...#."),
            (">", ".#... ..#.. ...#. ....# ...#. ..#.. .#..."),
            ("|", "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
            ("*", "..... #.#.# .###. ##### .###. #.#.# ....."),
            ("#", ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."),
            ("!", "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."),
            ("?", ".###. #...# ....# ...#. ..#.. ..... ..#.."),
            ("[", ".###. .#... .#... .#... .#... .#... .###."),
            ("]", ".###. ...#. ...#. ...#. ...#. ...#. .###."),
            ("a", "..... ..... .###. ....# .#### #...# .####"),
            ("b", "#.... #.... #.##. ##..# #...# #...# ####."),
            ("c", "..... ..... .###. #.... #.... #...# .###."),
            ("d", "....# ....# .##.# #..## #...# #...# .####"),
            ("e", "..... ..... .###. #...# ##### #.... .###."),
            ("f", "..##. .#..# .#... ###.. .#... .#... .#..."),
            ("g", "..... ..... .#### #...# .#### ....# .###."),
            ("h", "#.... #.... #.##. ##..# #...# #...# #...#"),
            ("i", "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."),
            ("j", "...#. ..... ..##. ...#. ...#. #..#. .##.."),
            ("k", "#.... #.... #..#. #.#.. ##... #.#.. #..#."),
            ("l", ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
            ("m", "..... ..... ##.#. #.#.# #.#.# #...# #...#"),
            ("n", "..... ..... #.##. ##..# #...# #...# #...#"),
            ("o", "..... ..... .###. #...# #...# #...# .###."),
            ("p", "..... ..... ####. #...# ####. #.... #...."),
            ("q", "..... ..... .##.# #..## .#### ....# ....#"),
            ("r", "..... ..... #.##. ##..# #.... #.... #...."),
            ("s", "..... ..... .###. #.... .###. ....# ####."),
            ("t", ".#... .#... ###.. .#... .#... .#..# ..##."),
            ("u", "..... ..... #...# #...# #...# #..## .##.#"),
            ("v", "..... ..... #...# #...# #...# .#.#. ..#.."),
            ("w", "..... ..... #...# #...# #.#.# #.#.# .#.#."),
            ("x", "..... ..... #...# .#.#. ..#.. .#.#. #...#"),
            ("y", "..... ..... #...# #...# .#### ....# .###."),
            ("z", "..... ..... ##### ...#. ..#.. .#... #####"),
            ("²", ".##.. ...#. ..#.. .###. ..... ..... ....."),
            ("±", "..#.. ..#.. ##### ..#.. ..#.. ..... #####"),
            ("−", "..... ..... ..... ##### ..... ..... ....."),
            ("·", "..... ..... ..... ..#.. ..... ..... ....."),
            ("→", "..... ..#.. ...#. ##### ...#. ..#.. ....."),
            ("~", "..... ..... .#... #.#.# ...#. ..... ....."),
            ("‖", ".#.#. .#.#. .#.#. .#.#. .#.#. .#.#. .#.#."),
            (" ", "..... ..... ..... ..... ..... ..... ....."),
        ]
        var out: [Character: [String]] = [:]
        for (c, rows) in table { out[c] = rows.split(separator: " ").map(String.init) }
        return out
    }()

    /// Width in pixels of `text` at `scale`.
    public static func width(of text: String, scale: Int = 1) -> Int {
        Swift.max(0, text.count * advance - 1) * scale
    }
}

extension RGBImage {
    /// Draws `text` with its top-left corner at (x, y); unknown characters draw as `?`-boxes.
    public mutating func drawText(_ text: String, x: Int, y: Int, color: RGB = RGB(0, 0, 0), scale: Int = 1) {
        var cx = x
        for ch in text {
            if let rows = BitmapFont.glyphs[ch] ?? BitmapFont.glyphs[Character(ch.uppercased())] {
                for (r, row) in rows.enumerated() {
                    for (c, bit) in row.enumerated() where bit == "#" {
                        fillRectangle(x: cx + c * scale, y: y + r * scale, width: scale, height: scale, color: color)
                    }
                }
            } else {
                strokeRectangle(x: cx, y: y, width: 5 * scale, height: 7 * scale, color: color)
            }
            cx += BitmapFont.advance * scale
        }
    }

    /// Draws `text` centred horizontally on `centerX`.
    public mutating func drawText(_ text: String, centerX: Int, y: Int, color: RGB = RGB(0, 0, 0), scale: Int = 1) {
        drawText(text, x: centerX - BitmapFont.width(of: text, scale: scale) / 2, y: y, color: color, scale: scale)
    }

    /// A one-pixel rectangle outline, clipped.
    public mutating func strokeRectangle(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
        fillRectangle(x: x, y: y, width: w, height: 1, color: color)
        fillRectangle(x: x, y: y + h - 1, width: w, height: 1, color: color)
        fillRectangle(x: x, y: y, width: 1, height: h, color: color)
        fillRectangle(x: x + w - 1, y: y, width: 1, height: h, color: color)
    }

    /// A straight line of `thickness` pixels from (x0, y0) to (x1, y1), optionally dashed
    /// (`dash` pixels on, `dash` off), clipped.
    public mutating func drawLine(
        x0: Double, y0: Double, x1: Double, y1: Double, color: RGB, thickness: Int = 2, dash: Int = 0
    ) {
        let length = ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
        let steps = Swift.max(1, Int(length.rounded(.up)) * 2)
        let half = thickness / 2
        for s in 0...steps {
            let f = Double(s) / Double(steps)
            if dash > 0, Int(f * length) / dash % 2 == 1 { continue }
            let x = Int((x0 + f * (x1 - x0)).rounded()), y = Int((y0 + f * (y1 - y0)).rounded())
            fillRectangle(x: x - half, y: y - half, width: thickness, height: thickness, color: color)
        }
    }

    /// A filled square (`square`) or diamond marker centred on (x, y).
    public mutating func drawMarker(x: Int, y: Int, size: Int = 7, square: Bool, color: RGB) {
        let h = size / 2
        if square {
            fillRectangle(x: x - h, y: y - h, width: size, height: size, color: color)
        } else {
            for dy in -h...h {
                let w = h - Swift.abs(dy)
                fillRectangle(x: x - w, y: y + dy, width: 2 * w + 1, height: 1, color: color)
            }
        }
    }
}
