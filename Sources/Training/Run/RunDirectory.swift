import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The run directory of DESIGN.md: metrics.jsonl, model.safetensors and
/// checkpoint.safetensors, all under one folder.
public struct RunDirectory {
    public let url: URL

    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var modelURL: URL { url.appendingPathComponent("model.safetensors") }
    public var checkpointURL: URL { url.appendingPathComponent("checkpoint.safetensors") }

    public init(_ path: String) throws {
        url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw RunDirectoryError(path: path, problem: "exists and is not a folder") }
        } else {
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw RunDirectoryError(path: path, problem: "cannot be created")
            }
        }
    }

    /// Starts metrics.jsonl afresh, or keeps the lines up to `epoch` when resuming
    /// so a resumed run's file matches an uninterrupted one.
    public func resetMetrics(keepingEpochsThrough epoch: Int = 0) throws {
        let kept: [String]
        if epoch > 0, let text = try? String(contentsOf: metricsURL, encoding: .utf8) {
            kept = text.split(separator: "\n").map(String.init).filter { line in
                guard let data = line.data(using: .utf8),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let lineEpoch = object["epoch"] as? Int else { return false }
                return lineEpoch <= epoch
            }
        } else {
            kept = []
        }
        let text = kept.map { $0 + "\n" }.joined()
        try AtomicFile.write(Array(text.utf8), to: metricsURL)
    }

    /// Appends one line and syncs it: an epoch reported is an epoch on disk.
    public func append(_ metrics: EpochMetrics) throws {
        let path = metricsURL.path
        let fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileWriteError(path: path, operation: "open for appending", code: errno) }
        defer { close(fd) }
        try AtomicFile.writeAndSync(Array((metrics.jsonLine + "\n").utf8), to: fd, path: path, operation: "append")
    }
}

public struct RunDirectoryError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}
