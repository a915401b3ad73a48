/// Malformed or missing data files. Each description names the file, the place and what was
/// expected.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// The file or directory at the path does not exist.
    case fileNotFound(String)
    /// The file exists but cannot be read or its content is not in the expected form (a wrong
    /// header, an empty series identifier, times that do not increase, …).
    case unreadable(path: String, reason: String)
    /// A CSV file with no data rows.
    case empty(String)
    /// A CSV cell that is not a number (line and column are 1-based).
    case notNumeric(path: String, line: Int, column: Int, text: String)
    /// A CSV row with a different number of columns than the header.
    case ragged(path: String, line: Int, expected: Int, found: Int)
    /// A value that is NaN or infinite (line and column are 1-based).
    case nonFinite(path: String, line: Int, column: Int)
    /// A `.npy` file Laminar cannot read: bad magic or header, a dtype other than `<f4`/`<f8`, not
    /// 2-D, or Fortran order.
    case badNpy(path: String, reason: String)
    /// A binary file (`.npy`, IDX) shorter than its header promises.
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    /// An IDX file with a bad header (magic number, element type, rank, size), bytes after the
    /// data, or a corrupt or truncated gzip stream.
    case badIDX(path: String, reason: String)
    /// Files or settings that are valid one by one but do not fit together (image and label
    /// counts, a split that cannot be made, out-of-range data settings); the message says which.
    case mismatch(String)

    /// The file and line (where there is one), what was found and what was expected.
    public var description: String {
        switch self {
        case .fileNotFound(let p): return "\(p): no such file"
        case .unreadable(let p, let r): return "\(p): \(r)"
        case .empty(let p): return "\(p): no data rows (expected a header line and at least one row of numbers)"
        case .notNumeric(let p, let l, let c, let t): return "\(p):\(l): column \(c) is '\(t)', expected a number"
        case .ragged(let p, let l, let e, let f): return "\(p):\(l): \(f) columns, expected \(e) like the header"
        case .nonFinite(let p, let l, let c): return "\(p):\(l): column \(c) is NaN or infinite; remove or fix the row"
        case .badNpy(let p, let r): return "\(p): not a supported .npy file: \(r)"
        case .truncated(let p, let e, let f): return "\(p) is truncated: expected \(e) bytes, found \(f)"
        case .badIDX(let p, let r): return "\(p): not a valid IDX file: \(r)"
        case .mismatch(let s): return s
        }
    }
}
