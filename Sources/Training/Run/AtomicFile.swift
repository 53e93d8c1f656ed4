import Foundation

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Writes a file so that a crash at any moment leaves either the old file or
/// the new one in place, never a half-written one: temporary file in the same
/// folder, fsync, rename over the target, fsync the folder.
public enum AtomicFile {
    /// `mode`: the file's permissions from its creation on (a secret key is 0600, never briefly wider).
    public static func write(_ bytes: [UInt8], to url: URL, mode: mode_t = 0o644) throws {
        let folder = url.deletingLastPathComponent().path
        let temporary = "\(folder)/.\(url.lastPathComponent).tmp-\(getpid())"
        // A leftover of a crashed write would keep its old mode: start afresh.
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw FileWriteError(path: temporary, operation: "create", code: errno) }
        var ok = false
        defer { if !ok { unlink(temporary) } }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { let code = errno; close(fd); throw FileWriteError(path: temporary, operation: "write", code: code) }
            written += n
        }
        guard fsync(fd) == 0 else { let code = errno; close(fd); throw FileWriteError(path: temporary, operation: "fsync", code: code) }
        close(fd)
        guard rename(temporary, url.path) == 0 else { throw FileWriteError(path: url.path, operation: "rename", code: errno) }
        ok = true
        let directory = open(folder, O_RDONLY)
        if directory >= 0 { fsync(directory); close(directory) }
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
