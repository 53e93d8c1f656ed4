import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `Downloader.fetch` did for one file.
public enum DownloadOutcome: Equatable {
    case alreadyPresent(URL)
    case downloaded(URL, from: URL)
}

/// Fetches a manifest of files from mirror base URLs into a folder, so that
/// a file appears under its final name only once it is complete and its
/// checksum is right: a crash or a bad mirror never leaves a damaged file
/// that a later run would trust.
public struct Downloader {
    public let mirrors: [URL]
    public let timeout: TimeInterval
    private let log: (String) -> Void

    public init(mirrors: [URL], timeout: TimeInterval = 60, log: @escaping (String) -> Void = { _ in }) {
        self.mirrors = mirrors
        self.timeout = timeout
        self.log = log
    }

    public func fetch(_ files: [DatasetFile], into directory: URL) throws -> [DownloadOutcome] {
        guard !mirrors.isEmpty else { throw DownloadError.noMirrors }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DownloadError.cannotWrite(directory, reason: error.localizedDescription)
        }
        let http = HTTPGet(timeout: timeout)
        defer { http.invalidate() }
        return try files.map { try fetch($0, into: directory, using: http) }
    }

    private func fetch(_ file: DatasetFile, into directory: URL, using http: HTTPGet) throws -> DownloadOutcome {
        let destination = directory.appendingPathComponent(file.name)
        if FileManager.default.fileExists(atPath: destination.path) {
            if (try? FileMD5.hex(of: destination)) == file.md5 { return .alreadyPresent(destination) }
            log("\(destination.path): present but its md5 is wrong; downloading again")
        }
        var failures: [DownloadError] = []
        for mirror in mirrors {
            let source = mirror.appendingPathComponent(file.name)
            do {
                log("downloading \(source.absoluteString)")
                try download(file, from: source, to: destination, using: http)
                return .downloaded(destination, from: source)
            } catch let error as DownloadError {
                log(error.description)
                failures.append(error)
            }
        }
        throw failures.count == 1 ? failures[0] : DownloadError.allMirrorsFailed(name: file.name, failures: failures)
    }

    /// Writes to a temporary file beside the destination (a rename is only
    /// atomic within one file system), checks what reached the disk, and
    /// only then renames it into place.
    private func download(_ file: DatasetFile, from source: URL, to destination: URL, using http: HTTPGet) throws {
        let body = try http.body(of: source)
        let directory = destination.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(file.name).\(getpid()).partial")
        do {
            try writeDurably(body, to: temporary)
            if let expected = file.byteCount, body.count != expected {
                throw DownloadError.sizeMismatch(file: destination, from: source, expected: expected, actual: body.count)
            }
            let actual = try FileMD5.hex(of: temporary)
            guard actual == file.md5 else {
                throw DownloadError.checksumMismatch(file: destination, from: source, expected: file.md5, actual: actual)
            }
            guard rename(temporary.path, destination.path) == 0 else {
                throw DownloadError.cannotWrite(destination, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? DownloadError { throw error }
            throw DownloadError.cannotWrite(temporary, reason: error.localizedDescription)
        }
        // The rename itself survives a crash only once the folder is synced.
        syncFolder(directory)
    }

    private func writeDurably(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DownloadError.cannotWrite(url, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    throw DownloadError.cannotWrite(url, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
        }
        guard fsync(fd) == 0 else { throw DownloadError.cannotWrite(url, reason: String(cString: strerror(errno))) }
    }

    private func syncFolder(_ url: URL) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
