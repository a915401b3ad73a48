import Foundation
import LaminarNN

/// A run's `metrics.jsonl`: one JSON object per iteration (keys sorted), appended and flushed as
/// training goes. Opening it for a run that continues after iteration `k` keeps the records of
/// iterations `1…k` and drops what a killed or diverged attempt wrote after them; a fresh run
/// (`k = 0`) starts an empty file. Every record carries an integer `iteration` field.
public final class MetricsLog {
    private let handle: FileHandle
    private let encoder: JSONEncoder

    /// Opens the log at `url` for a run that continues after `iteration` completed iterations.
    /// - Throws: ``TrainingError/invalidOptions(_:)`` naming the file when it cannot be written.
    public init(url: URL, keepingFirst iteration: Int) throws {
        let kept = Self.records(in: FileManager.default.contents(atPath: url.path) ?? Data(), through: iteration)
        do {
            try AtomicFile.write(Array(kept), to: url)
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw TrainingError.invalidOptions("cannot write \(url.path): is the --out directory writable? (\(error))")
        }
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

    /// The leading lines of `data` whose `iteration` is at most `iteration`, each ending in a
    /// newline. Stops at the first line that is not such a record (a torn last line, or the
    /// lines of an attempt after the checkpoint).
    static func records(in data: Data, through iteration: Int) -> Data {
        struct Line: Decodable { var iteration: Int }
        let decoder = JSONDecoder()
        var kept = Data()
        guard iteration > 0 else { return kept }
        for line in data.split(separator: 0x0A) {
            guard let record = try? decoder.decode(Line.self, from: Data(line)), record.iteration <= iteration else { break }
            kept.append(contentsOf: line)
            kept.append(0x0A)
        }
        return kept
    }

    /// The records of a `metrics.jsonl` file (one JSON object per line); none when it is absent.
    public static func read<Record: Decodable>(_ type: Record.Type, from url: URL) throws -> [Record] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        let decoder = JSONDecoder()
        return try data.split(separator: 0x0A).filter { !$0.isEmpty }.map { try decoder.decode(Record.self, from: Data($0)) }
    }
}
