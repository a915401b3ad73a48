/// Malformed or missing data files. Each description names the file, the place and what was
/// expected.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(String)
    case unreadable(path: String, reason: String)
    case empty(String)
    case notNumeric(path: String, line: Int, column: Int, text: String)
    case ragged(path: String, line: Int, expected: Int, found: Int)
    case nonFinite(path: String, line: Int, column: Int)
    case badNpy(path: String, reason: String)
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    case badIDX(path: String, reason: String)
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
