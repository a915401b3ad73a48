import Foundation

/// Crash-safe file replacement: write a temporary file in the target's directory, flush it to
/// disk (`fsync`), rename it over the target, and sync the directory. A kill at any moment
/// leaves either the old file or the new one, never a partial file.
public enum AtomicFile {
    /// Replaces the file at `url` with `bytes`, atomically and durably.
    ///
    /// - Throws: ``CheckpointError/io(path:reason:)`` when the temporary file cannot be created,
    ///   written or renamed (a temporary file that was created is removed).
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError.io(path: url.path, reason: "cannot create a file in \(directory) (\(String(cString: strerror(errno))))")
        }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok else {
            unlink(temporary)
            throw CheckpointError.io(path: url.path, reason: "writing failed (\(reason))")
        }
        guard rename(temporary, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CheckpointError.io(path: url.path, reason: "cannot replace the file (\(reason))")
        }
        let dfd = open(directory, O_RDONLY)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}
