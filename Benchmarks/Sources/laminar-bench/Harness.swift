import Foundation

/// One measured quantity of a case, written as JSON.
struct Measurement: Codable {
    var name: String
    var unit: String
    var median: Double
    var min: Double
    var max: Double
    var repeats: Int
    var nfe: Int?
    var nfeBackward: Int?
    var extra: [String: Double] = [:]
}

/// The JSON file of one case.
struct CaseResult: Codable {
    var `case`: String
    var threads: Int
    var commit: String
    var machine: String
    var date: String
    var debug: Bool
    var measurements: [Measurement]
}

enum Harness {
    #if DEBUG
    static let isDebug = true
    #else
    static let isDebug = false
    #endif

    /// Times `body` `repeats` times after `warmup` runs; returns seconds.
    static func time(repeats: Int, warmup: Int = 1, _ body: () throws -> Void) rethrows -> [Double] {
        for _ in 0..<warmup { try body() }
        var out: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            out.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return out
    }

    static func summarize(_ name: String, unit: String = "s", _ samples: [Double], nfe: Int? = nil,
                          nfeBackward: Int? = nil, extra: [String: Double] = [:]) -> Measurement {
        let sorted = samples.sorted()
        return Measurement(name: name, unit: unit, median: sorted[sorted.count / 2], min: sorted.first!,
                           max: sorted.last!, repeats: samples.count, nfe: nfe, nfeBackward: nfeBackward, extra: extra)
    }

    static var commit: String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "rev-parse", "--short", "HEAD"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return "unknown" }
        p.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static var machine: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    /// Peak resident set size of this process so far, in MiB.
    static var peakRSS: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Writes `<directory>/<case>.json` and appends lines to `SUMMARY.md`.
    static func write(_ result: CaseResult, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: "\(directory)/\(result.case).json"))
        var summary = ""
        for m in result.measurements {
            let nfe = m.nfe.map { " NFE \($0)\(m.nfeBackward.map { "/\($0)" } ?? "")" } ?? ""
            summary += "| \(result.date) | \(result.case) | \(m.name) | \(String(format: "%.4g", m.median)) \(m.unit) |\(nfe) | \(result.threads) | \(result.commit) |\n"
        }
        let path = "\(directory)/SUMMARY.md"
        if !FileManager.default.fileExists(atPath: path) {
            try "| date | case | measurement | median | NFE | threads | commit |\n|---|---|---|---|---|---|---|\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(summary.utf8))
        try handle.close()
        for m in result.measurements {
            print(String(format: "%-12@ %-44@ median %.4g %@", result.case as NSString, m.name as NSString, m.median, m.unit as NSString)
                + (m.nfe.map { "  NFE \($0)" } ?? "") + (m.extra.isEmpty ? "" : "  \(m.extra.map { "\($0.key)=\(String(format: "%.4g", $0.value))" }.sorted().joined(separator: " "))"))
        }
    }
}
