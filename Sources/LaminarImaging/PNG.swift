import CPNG
import Foundation

/// Failures writing or reading pictures.
public enum ImagingError: Error, CustomStringConvertible, Equatable {
    /// The directory to write into does not exist.
    case directoryMissing(String)
    /// The file cannot be created or libpng failed while writing it.
    case cannotWrite(path: String, reason: String)
    /// The file cannot be opened or is not a PNG that libpng can decode.
    case cannotRead(path: String, reason: String)

    /// What failed and on which path.
    public var description: String {
        switch self {
        case .directoryMissing(let d): return "directory \(d) does not exist"
        case .cannotWrite(let p, let r): return "cannot write \(p): \(r)"
        case .cannotRead(let p, let r): return "cannot read \(p): \(r)"
        }
    }
}

/// PNG files through libpng's simplified API (no longjmp error handling needed).
public enum PNG {
    /// Writes an 8-bit RGB PNG atomically: a temporary file in the same directory, renamed over
    /// the target once complete.
    public static func write(_ image: RGBImage, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ImagingError.directoryMissing(directory)
        }
        let temporary = "\(directory)/.\(url.lastPathComponent).tmp-\(getpid())"
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        let ok = image.pixels.withUnsafeBufferPointer { buf in
            png_image_write_to_file(&png, temporary, 0, buf.baseAddress, Int32(3 * image.width), nil)
        }
        if ok == 0 {
            let message = withUnsafeBytes(of: png.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            png_image_free(&png)
            unlink(temporary)
            throw ImagingError.cannotWrite(path: path, reason: message)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ImagingError.cannotWrite(path: path, reason: reason)
        }
    }

    /// Reads a PNG as 8-bit RGB.
    public static func read(_ path: String) throws -> RGBImage {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&png, path) != 0 else {
            let message = withUnsafeBytes(of: png.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw ImagingError.cannotRead(path: path, reason: message)
        }
        png.format = UInt32(PNG_FORMAT_RGB)
        var image = RGBImage(width: Int(png.width), height: Int(png.height))
        let ok = image.pixels.withUnsafeMutableBufferPointer { buf in
            png_image_finish_read(&png, nil, buf.baseAddress, Int32(3 * image.width), nil)
        }
        guard ok != 0 else {
            let message = withUnsafeBytes(of: png.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            png_image_free(&png)
            throw ImagingError.cannotRead(path: path, reason: message)
        }
        return image
    }
}
