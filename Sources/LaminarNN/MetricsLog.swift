import Foundation

/// A run's `metrics.jsonl`, one JSON object per iteration, appended as training goes. Opening
/// it for a run resumed at iteration `k` keeps the first `k` records and drops the lines of a
/// killed attempt after them; a fresh run (`k = 0`) starts an empty file.
public final class MetricsLog {
    private let handle: FileHandle
    private let encoder: JSONEncoder

    /// Opens the log at `url` for a run that continues after `iteration` completed iterations:
    /// keeps the file's first `iteration` lines and appends after them.
    public init(url: URL, keepingFirst iteration: Int) throws {
        var kept = Data()
        if iteration > 0, let old = FileManager.default.contents(atPath: url.path) {
            for line in old.split(separator: 0x0A).prefix(iteration) { kept.append(contentsOf: line + [0x0A]) }
        }
        try kept.write(to: url, options: .atomic)
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { try? handle.close() }

    /// Appends `record` as one line of JSON (keys sorted).
    public func append<Record: Encodable>(_ record: Record) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }
}
