import Foundation

/// `metrics.jsonl`: one JSON object per iteration, appended and flushed as training goes.
final class MetricsFile {
    private let handle: FileHandle
    private let encoder: JSONEncoder

    init(url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw TrainingError.invalidOptions("cannot create \(url.path): is the --out directory writable?")
            }
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { try? handle.close() }

    func append(_ record: IterationRecord) throws {
        var data = try encoder.encode(record)
        data.append(0x0A)
        try handle.write(contentsOf: data)
    }

    /// Drops lines after `iteration` (a resumed run rewrites them).
    static func truncate(_ url: URL, toIteration iteration: Int) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        let decoder = JSONDecoder()
        var kept = Data()
        for line in data.split(separator: 0x0A) {
            guard let record = try? decoder.decode(IterationRecord.self, from: Data(line)),
                  record.iteration <= iteration else { break }
            kept.append(contentsOf: line)
            kept.append(0x0A)
        }
        try kept.write(to: url, options: .atomic)
    }
}
