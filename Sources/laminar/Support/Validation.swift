import ArgumentParser
import Foundation
import Laminar

/// Throws a usage error when the directory that would hold `path` does not exist or is not writable.
func requireWritableParent(of path: String, flag: String) throws {
    let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("\(flag): directory \(parent) does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: parent) else {
        throw ValidationError("\(flag): directory \(parent) is not writable")
    }
}

/// Throws a usage error when `path` cannot become an output directory: it exists and is not a
/// writable directory, or its nearest existing ancestor is not writable.
func requireWritableDirectory(_ path: String, flag: String) throws {
    var url = URL(fileURLWithPath: path).standardized
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw ValidationError("\(flag): \(url.path) exists and is not a directory") }
        guard canCreateFiles(in: url.path) else { throw ValidationError("\(flag): directory \(url.path) is not writable") }
        return
    }
    while !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
        url = url.deletingLastPathComponent()
    }
    guard isDirectory.boolValue, canCreateFiles(in: url.path) else {
        throw ValidationError("\(flag): cannot create \(path): \(url.path) is not a writable directory")
    }
}

/// Whether a file can be created in `directory` (a real probe: permission bits say yes to root
/// even on read-only or virtual file systems).
func canCreateFiles(in directory: String) -> Bool {
    let probe = "\(directory)/.laminar-probe-\(getpid())"
    let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else { return false }
    close(fd)
    unlink(probe)
    return true
}

/// Peak resident set size of this process so far, in MiB (`getrusage`; Linux reports KiB).
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Whether a `--data` value names a file rather than a data set (a missing file is then a
/// runtime error, exit 1, and an unknown name a usage error, exit 2).
func looksLikePath(_ name: String) -> Bool {
    name.contains("/") || !URL(fileURLWithPath: name).pathExtension.isEmpty
}

/// Compact JSON (sorted keys) for checkpoint metadata.
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Writes `value` atomically as indented JSON with sorted keys (results files such as
/// `results.json`, `fit.json`, `score --json`).
func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(Array(try encoder.encode(value)), to: url)
}

/// `path` without doubled or trailing slashes (`frames//` → `frames`), for messages.
func cleanPath(_ path: String) -> String {
    var parts = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    if path.hasPrefix("/") { parts = "/" + parts }
    return parts.isEmpty ? path : parts
}
