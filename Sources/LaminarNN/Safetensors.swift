import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length `N`, `N` bytes
/// of JSON `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`,
/// then the little-endian tensor bytes. Readable by Python's `safetensors` package.
public struct SafetensorsFile: Sendable {
    /// One stored tensor.
    public struct Entry: Sendable {
        /// The safetensors dtype name (`F32`, `F64`, `I64`, `U8`, …).
        public var dtype: String
        /// Extent of each axis.
        public var shape: [Int]
        /// Raw little-endian bytes.
        public var bytes: [UInt8]
    }

    /// Tensors by name, and their order in the file.
    public var entries: [String: Entry]
    /// Tensor names in the order of their data in the file.
    public var order: [String]
    /// String metadata (`__metadata__`).
    public var metadata: [String: String]

    static let elementSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "U16": 2, "U32": 4, "U64": 8,
    ]

    /// Reads and validates a file: header size and JSON, dtypes, shapes, offsets (in bounds,
    /// contiguous, non-overlapping, matching the shape's byte count).
    public static func read(from url: URL) throws -> SafetensorsFile {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError.fileNotFound(path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.io(path: path, reason: "cannot read (\(error.localizedDescription))")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Parses the bytes of a file (`path` is used in messages).
    public static func parse(_ bytes: [UInt8], path: String) throws -> SafetensorsFile {
        guard bytes.count >= 8 else { throw CheckpointError.truncated(path: path, expectedBytes: 8, foundBytes: bytes.count) }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= 100_000_000 else {
            throw CheckpointError.invalidHeader(path: path, reason: "header length \(headerLength) is implausible")
        }
        let n = Int(headerLength)
        guard bytes.count >= 8 + n else {
            throw CheckpointError.truncated(path: path, expectedBytes: 8 + n, foundBytes: bytes.count)
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)]))
        } catch {
            throw CheckpointError.invalidHeader(path: path, reason: "the header is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw CheckpointError.invalidHeader(path: path, reason: "the header is not a JSON object")
        }
        let buffer = Array(bytes[(8 + n)...])
        var file = SafetensorsFile(entries: [:], order: [], metadata: [:])
        var spans: [(begin: Int, end: Int, name: String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let meta = value as? [String: Any] else {
                    throw CheckpointError.invalidHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in meta {
                    guard let s = v as? String else {
                        throw CheckpointError.invalidHeader(path: path, reason: "metadata value of '\(k)' is not a string")
                    }
                    file.metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any],
                  offsetsAny.count == 2
            else {
                throw CheckpointError.invalidHeader(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let d = (v as? NSNumber)?.intValue, d >= 0 else {
                    throw CheckpointError.badOffsets(name: name, reason: "shape \(shapeAny) has a negative or non-integer extent")
                }
                return d
            }
            guard let begin = (offsetsAny[0] as? NSNumber)?.intValue, let end = (offsetsAny[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin else {
                throw CheckpointError.badOffsets(name: name, reason: "data_offsets \(offsetsAny) are not increasing non-negative integers")
            }
            guard let size = elementSizes[dtype] else { throw CheckpointError.unsupportedDType(name: name, dtype: dtype) }
            let expected = shape.reduce(1, *) * size
            guard end - begin == expected else {
                throw CheckpointError.badOffsets(
                    name: name, reason: "holds \(end - begin) bytes but shape \(shape) of \(dtype) needs \(expected)")
            }
            guard end <= buffer.count else {
                throw CheckpointError.truncated(path: path, expectedBytes: 8 + n + end, foundBytes: bytes.count)
            }
            spans.append((begin, end, name))
            file.entries[name] = Entry(dtype: dtype, shape: shape, bytes: Array(buffer[begin..<end]))
        }
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for i in 1..<Swift.max(spans.count, 1) where spans[i].begin < spans[i - 1].end {
            throw CheckpointError.badOffsets(name: spans[i].name, reason: "overlaps tensor '\(spans[i - 1].name)'")
        }
        file.order = spans.map(\.name)
        return file
    }

    /// The tensor `name` converted to `S` (from any supported float or integer dtype).
    public func tensor<S: TensorScalar>(_ name: String, as: S.Type = S.self) throws -> Tensor<S> {
        guard let e = entries[name] else { throw CheckpointError.missingTensor(name) }
        let count = e.shape.reduce(1, *)
        var values = [S](repeating: 0, count: count)
        try e.bytes.withUnsafeBytes { raw in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
            }
            for i in 0..<count {
                switch e.dtype {
                case "F64": values[i] = S(Double(bitPattern: load(UInt64.self, i)))
                case "F32": values[i] = S(Float(bitPattern: load(UInt32.self, i)))
                case "I64": values[i] = S(load(Int64.self, i))
                case "I32": values[i] = S(load(Int32.self, i))
                case "I16": values[i] = S(load(Int16.self, i))
                case "I8": values[i] = S(load(Int8.self, i))
                case "U8", "BOOL": values[i] = S(load(UInt8.self, i))
                default: throw CheckpointError.unsupportedDType(name: name, dtype: e.dtype)
                }
            }
        }
        return Tensor(shape: e.shape, scalars: values)
    }

    /// Serialises tensors (in the given order) and metadata; the header is padded with spaces to
    /// a multiple of 8 bytes.
    public static func serialize<S: TensorScalar>(
        _ tensors: [(String, Tensor<S>)], metadata: [String: String]
    ) throws -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        let size = MemoryLayout<S>.size
        for (name, t) in tensors {
            precondition(name != "__metadata__" && header[name] == nil, "safetensors: duplicate or reserved name '\(name)'")
            header[name] = ["dtype": S.dtypeName, "shape": t.shape, "data_offsets": [offset, offset + t.count * size]]
            offset += t.count * size
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        let n = UInt64(json.count)
        for i in 0..<8 { out.append(UInt8((n >> (8 * UInt64(i))) & 0xFF)) }
        out += json
        for (_, t) in tensors {
            t.withUnsafeBufferPointer { buf in
                for v in buf {
                    if S.self == Double.self {
                        let bits = (v as! Double).bitPattern.littleEndian
                        withUnsafeBytes(of: bits) { out += $0 }
                    } else {
                        let bits = Float(v).bitPattern.littleEndian
                        withUnsafeBytes(of: bits) { out += $0 }
                    }
                }
            }
        }
        return out
    }

    /// Writes tensors and metadata to `url` atomically (see ``AtomicFile``).
    public static func write<S: TensorScalar>(
        _ tensors: [(String, Tensor<S>)], metadata: [String: String], to url: URL
    ) throws {
        try AtomicFile.write(try serialize(tensors, metadata: metadata), to: url)
    }
}
