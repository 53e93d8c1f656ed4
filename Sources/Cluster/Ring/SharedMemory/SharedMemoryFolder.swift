import Foundation

/// Where this user's ring segments live: a folder of its own under
/// /dev/shm, mode 0700. Segment files are named after the process that made
/// them, so a segment left by a process that died (SIGKILL between making
/// it and its neighbour mapping it) is found and removed by the next one.
enum SharedMemoryFolder {
    static let root = "/dev/shm"

    static var path: String { "\(root)/dptrain-\(geteuid())" }

    /// The folder, made if missing; refused if another user owns it or others may enter it.
    static func prepare() throws -> String {
        let folder = path
        if mkdir(folder, 0o700) != 0, errno != EEXIST {
            throw SharedMemoryError(path: folder, reason: "cannot make the folder: \(errnoText())")
        }
        var status = stat()
        guard lstat(folder, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw SharedMemoryError(path: folder, reason: "is not a folder")
        }
        guard status.st_uid == geteuid(), status.st_mode & 0o077 == 0 else {
            throw SharedMemoryError(path: folder, reason: "belongs to another user or others may enter it; refused")
        }
        removeStale(in: folder)
        return folder
    }

    /// Every inbox of this process is `<prefix><token in hex>.seg`
    /// (`.tmp` while it is being made): the prefix names the process.
    static func inboxPrefix(folder: String) -> String { "\(folder)/ring-\(getpid())-" }

    static func segmentPath(prefix: String, token: UInt64) -> String { prefix + String(token, radix: 16) + ".seg" }

    static func owner(ofSegment name: String) -> Int32? {
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[0] == "ring", name.hasSuffix(".seg") || name.hasSuffix(".tmp") else { return nil }
        return Int32(parts[1])
    }

    /// Removes segments whose making process is gone.
    static func removeStale(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names {
            guard let pid = owner(ofSegment: name), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink("\(folder)/\(name)")
        }
    }
}
