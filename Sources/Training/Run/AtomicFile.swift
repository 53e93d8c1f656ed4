import Foundation

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Writes a file so that a crash at any moment leaves either the old file or
/// the new one in place, never a half-written one: a temporary file in the
/// same folder, made afresh (never an existing file or a link someone placed
/// there), written, synced and closed with every error checked, renamed over
/// the target, and the folder synced. A full disk or any other failure
/// removes the temporary file and leaves the old file as it was.
public enum AtomicFile {
    /// `mode`: the file's permissions from its creation on (a secret key is 0600, never briefly wider).
    public static func write(_ bytes: [UInt8], to url: URL, mode: mode_t = 0o644) throws {
        let folder = url.deletingLastPathComponent().path
        removeStaleTemporaries(of: url)
        let temporary = "\(folder)/\(temporaryPrefix(of: url))\(getpid())"
        // A temporary of this process's own id can only be a leftover of an
        // earlier process with the same id: replaced, never followed.
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileWriteError(path: temporary, operation: "create", code: errno) }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temporary) }
        }
        try writeAndSync(bytes, to: fd, path: url.path, operation: "write")
        closed = true
        // close reports errors of delayed writes (NFS, some full disks).
        guard close(fd) == 0 else { throw FileWriteError(path: url.path, operation: "write (close)", code: errno) }
        guard rename(temporary, url.path) == 0 else { throw FileWriteError(path: url.path, operation: "rename", code: errno) }
        renamed = true
        try syncFolder(folder)
    }

    /// Writes all of `bytes` to `fd` (through interruptions and short
    /// writes) and syncs them; errors name `path` and `operation`.
    static func writeAndSync(_ bytes: [UInt8], to fd: Int32, path: String, operation: String) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileWriteError(path: path, operation: operation, code: n == 0 ? ENOSPC : errno) }
            written += n
        }
        guard fsync(fd) == 0 else { throw FileWriteError(path: path, operation: "\(operation) (fsync)", code: errno) }
    }

    /// Makes a rename or a new file in `folder` survive a power cut.
    public static func syncFolder(_ folder: String) throws {
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw FileWriteError(path: folder, operation: "open the folder to sync", code: errno) }
        defer { close(directory) }
        guard fsync(directory) == 0 else { throw FileWriteError(path: folder, operation: "sync the folder", code: errno) }
    }

    static func temporaryPrefix(of url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

    /// Temporary files of `url` left by processes that no longer run (a
    /// SIGKILL mid-write): removed, so they do not pile up or fill the disk.
    static func removeStaleTemporaries(of url: URL) {
        let folder = url.deletingLastPathComponent().path
        let prefix = temporaryPrefix(of: url)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink("\(folder)/\(name)") }
        }
    }
}

public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let code: Int32

    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(path): cannot \(operation): \(String(cString: strerror(code)))" }
}
