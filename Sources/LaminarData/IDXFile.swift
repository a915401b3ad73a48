import CZlib
import Foundation

/// An IDX array (LeCun's MNIST format): unsigned bytes with a shape.
///
/// Layout: two zero bytes, a type code (`0x08` = unsigned byte; the only type MNIST-format
/// data use), the number of dimensions, one big-endian `UInt32` per dimension, then the data in
/// row-major order. Files may be gzip-compressed (`.gz`, detected by content).
public struct IDXFile: Sendable, Equatable {
    /// Extent of each dimension, e.g. `[60000, 28, 28]` for MNIST training images.
    public var shape: [Int]
    /// The elements in row-major order (`shape`'s product of them).
    public var bytes: [UInt8]

    /// An array of `shape` holding `bytes`; traps when the count does not match the shape.
    public init(shape: [Int], bytes: [UInt8]) {
        precondition(Self.elementCount(shape) == bytes.count, "IDXFile: \(bytes.count) bytes for shape \(shape)")
        self.shape = shape
        self.bytes = bytes
    }

    /// The product of `shape`, or nil when it overflows (a zero anywhere makes it 0).
    static func elementCount(_ shape: [Int]) -> Int? {
        if shape.contains(0) { return 0 }
        var total = 1
        for s in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: s)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// Largest accepted payload (4 GiB): more is certainly a corrupt header.
    static let maximumElements = 1 << 32

    /// Reads and validates `path` (raw or gzip).
    public static func read(path: String) throws -> IDXFile {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "cannot be read")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Parses IDX bytes, decompressing gzip first when the bytes start with its magic number.
    public static func parse(_ input: [UInt8], path: String) throws -> IDXFile {
        let raw = input.count >= 2 && input[0] == 0x1F && input[1] == 0x8B ? try gunzip(input, path: path) : input
        func fail(_ reason: String) -> DataError { .badIDX(path: path, reason: reason) }
        guard raw.count >= 4 else { throw fail("\(raw.count) bytes, shorter than the 4-byte magic number") }
        guard raw[0] == 0, raw[1] == 0 else {
            throw fail(String(format: "magic number starts with 0x%02X%02X, expected 0x0000", raw[0], raw[1]))
        }
        guard raw[2] == 0x08 else {
            throw fail(String(format: "element type 0x%02X; only unsigned bytes (0x08) are supported", raw[2]))
        }
        let rank = Int(raw[3])
        guard rank >= 1, rank <= 4 else { throw fail("\(rank) dimensions; expected 1 to 4") }
        let headerSize = 4 + 4 * rank
        guard raw.count >= headerSize else {
            throw fail("header needs \(headerSize) bytes for \(rank) dimensions, file has \(raw.count)")
        }
        var shape: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            shape.append(Int(raw[o]) << 24 | Int(raw[o + 1]) << 16 | Int(raw[o + 2]) << 8 | Int(raw[o + 3]))
        }
        guard let total = elementCount(shape), total <= maximumElements else { throw fail("dimensions \(shape) describe more than 4 GiB of data") }
        let found = raw.count - headerSize
        guard found == total else {
            if found < total { throw DataError.truncated(path: path, expectedBytes: headerSize + total, foundBytes: raw.count) }
            throw fail("\(found - total) bytes after the data of shape \(shape)")
        }
        return IDXFile(shape: shape, bytes: Array(raw[headerSize...]))
    }

    /// The IDX encoding (uncompressed).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for s in shape { out += [UInt8(s >> 24 & 0xFF), UInt8(s >> 16 & 0xFF), UInt8(s >> 8 & 0xFF), UInt8(s & 0xFF)] }
        return out + bytes
    }

    /// Decompresses a gzip stream with zlib; corrupt or truncated streams are errors.
    static func gunzip(_ input: [UInt8], path: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.unreadable(path: path, reason: "zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            repeat {
                try chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else {
                        throw DataError.badIDX(path: path, reason: "gzip stream is corrupt (zlib status \(status))")
                    }
                    output += buffer[0..<(buffer.count - Int(stream.avail_out))]
                }
                guard output.count <= maximumElements + 64 else {
                    throw DataError.badIDX(path: path, reason: "decompresses to more than 4 GiB")
                }
                if status != Z_STREAM_END && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw DataError.badIDX(path: path, reason: "gzip stream ends early (truncated file)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
