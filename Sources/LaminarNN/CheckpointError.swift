/// Failures reading or applying a checkpoint; each names the file or tensor and what was
/// expected.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint file does not exist.
    case fileNotFound(String)
    /// Reading or (atomically) writing the file failed; `reason` carries the system's message.
    case io(path: String, reason: String)
    /// The file is shorter than its header or a tensor's offsets require.
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    /// The safetensors header is missing, implausibly long or not a JSON object of tensor entries.
    case invalidHeader(path: String, reason: String)
    /// A tensor's dtype cannot be read or converted.
    case unsupportedDType(name: String, dtype: String)
    /// A tensor's shape or `data_offsets` are invalid, overlap, or disagree with its byte count.
    case badOffsets(name: String, reason: String)
    /// A parameter (or optimizer state) the model needs is not in the checkpoint.
    case missingTensor(String)
    /// The checkpoint holds a parameter the model does not have.
    case unexpectedTensor(String)
    /// A stored tensor's shape differs from the parameter's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    /// The file or tensor, what was found, and the likely cause.
    public var description: String {
        switch self {
        case .fileNotFound(let p): return "checkpoint \(p) does not exist"
        case .io(let p, let r): return "\(p): \(r)"
        case .truncated(let p, let e, let f):
            return "\(p) is truncated: expected at least \(e) bytes, found \(f) (an interrupted copy?)"
        case .invalidHeader(let p, let r): return "\(p) is not a valid safetensors file: \(r)"
        case .unsupportedDType(let n, let d): return "tensor '\(n)' has dtype \(d); Laminar reads F64, F32, I64, I32, I16, I8, U8 and BOOL"
        case .badOffsets(let n, let r): return "tensor '\(n)': \(r)"
        case .missingTensor(let n): return "the checkpoint has no tensor '\(n)': it was written for a different model"
        case .unexpectedTensor(let n): return "the checkpoint has a tensor '\(n)' the model does not: it was written for a different model"
        case .shapeMismatch(let n, let e, let f):
            return "tensor '\(n)': the model expects shape \(e), the checkpoint has \(f): it was written for a different model configuration"
        }
    }
}
