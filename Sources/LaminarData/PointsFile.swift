import Foundation

/// The user's own points: CSV with a header row, or a 2-D NumPy `.npy` array (`<f4`/`<f8`,
/// C order). Any dimension ≥ 1; NaN or infinite values are rejected with their location.
public enum PointsFile {
    /// File formats for writing.
    public enum Format: String, Sendable { case csv, npy }

    /// Loads an [n, d] tensor; the format follows the extension (`.npy`, otherwise CSV).
    public static func load(path: String) throws -> Tensor<Double> {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "cannot be read")
        }
        if path.lowercased().hasSuffix(".npy") { return try parseNpy([UInt8](data), path: path) }
        return try parseCSV(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses CSV text: a header line, then rows of numbers separated by commas.
    public static func parseCSV(_ text: String, path: String) throws -> Tensor<Double> {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard lines.count >= 2 else { throw DataError.empty(path) }
        let columns = lines[0].split(separator: ",", omittingEmptySubsequences: false).count
        var values: [Double] = []
        values.reserveCapacity((lines.count - 1) * columns)
        for (index, line) in lines.dropFirst().enumerated() {
            let lineNumber = index + 2
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == columns else {
                throw DataError.ragged(path: path, line: lineNumber, expected: columns, found: cells.count)
            }
            for (c, cell) in cells.enumerated() {
                let text = cell.trimmingCharacters(in: .whitespaces)
                guard let v = Double(text) else {
                    throw DataError.notNumeric(path: path, line: lineNumber, column: c + 1, text: text)
                }
                guard v.isFinite else { throw DataError.nonFinite(path: path, line: lineNumber, column: c + 1) }
                values.append(v)
            }
        }
        return Tensor(shape: [lines.count - 1, columns], scalars: values)
    }

    /// Parses `.npy` bytes (format versions 1–3, `<f4` or `<f8`, 2-D, C order).
    public static func parseNpy(_ bytes: [UInt8], path: String) throws -> Tensor<Double> {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw DataError.badNpy(path: path, reason: "missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int
        let start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else if major == 2 || major == 3 {
            guard bytes.count >= 12 else { throw DataError.truncated(path: path, expectedBytes: 12, foundBytes: bytes.count) }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        } else {
            throw DataError.badNpy(path: path, reason: "format version \(major) is not supported")
        }
        guard bytes.count >= start + headerLength else {
            throw DataError.truncated(path: path, expectedBytes: start + headerLength, foundBytes: bytes.count)
        }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr") else { throw DataError.badNpy(path: path, reason: "no 'descr' in the header") }
        let size: Int
        if descr.hasPrefix("'<f8'") { size = 8 } else if descr.hasPrefix("'<f4'") { size = 4 } else {
            throw DataError.badNpy(path: path, reason: "dtype \(descr.prefix(6)) is not <f4 or <f8")
        }
        guard let fortran = field("fortran_order"), fortran.hasPrefix("False") else {
            throw DataError.badNpy(path: path, reason: "Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        guard let shapeText = field("shape"), let open = shapeText.firstIndex(of: "("),
              let close = shapeText[open...].firstIndex(of: ")") else {
            throw DataError.badNpy(path: path, reason: "no 'shape' in the header")
        }
        let dims = shapeText[shapeText.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard dims.count == 2, dims.allSatisfy({ $0 >= 0 }) else {
            throw DataError.badNpy(path: path, reason: "shape \(dims) is not 2-D (points × dimensions)")
        }
        let (count, overflow) = dims[0].multipliedReportingOverflow(by: dims[1])
        guard !overflow, count <= bytes.count / size else {
            throw DataError.truncated(path: path, expectedBytes: Int.max, foundBytes: bytes.count)
        }
        let dataStart = start + headerLength
        guard bytes.count >= dataStart + count * size else {
            throw DataError.truncated(path: path, expectedBytes: dataStart + count * size, foundBytes: bytes.count)
        }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let offset = dataStart + i * size
                values[i] = size == 8
                    ? Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                    : Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
            }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw DataError.nonFinite(path: path, line: bad / Swift.max(dims[1], 1) + 1, column: bad % Swift.max(dims[1], 1) + 1)
        }
        return Tensor(shape: dims, scalars: values)
    }

    /// Serialises [n, d] points as CSV (header `x1,…,xd`) or `.npy` (`<f8`).
    public static func serialize(_ points: Tensor<Double>, format: Format) -> [UInt8] {
        precondition(points.rank == 2, "PointsFile: points must be [n, d], got \(points.shape)")
        let n = points.shape[0], d = points.shape[1]
        let v = points.scalars
        switch format {
        case .csv:
            var text = (1...d).map { "x\($0)" }.joined(separator: ",") + "\n"
            for i in 0..<n {
                text += (0..<d).map { "\(v[i * d + $0])" }.joined(separator: ",") + "\n"
            }
            return Array(text.utf8)
        case .npy:
            var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(n), \(d)), }"
            while (10 + header.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
            out += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
            out += Array(header.utf8)
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { out += $0 } }
            return out
        }
    }

    /// Writes points atomically (temporary file + rename).
    public static func write(_ points: Tensor<Double>, path: String, format: Format) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        do {
            try Data(serialize(points, format: format)).write(to: temporary)
            guard rename(temporary.path, path) == 0 else {
                throw DataError.unreadable(path: path, reason: "cannot replace the file (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DataError.unreadable(path: path, reason: "cannot write (\(error.localizedDescription))")
        }
    }
}
