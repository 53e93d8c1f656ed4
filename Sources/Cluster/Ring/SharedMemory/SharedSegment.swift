import Foundation

/// A file under /dev/shm mapped into this process: the memory two ring
/// neighbours on one host share. Its creator makes it with O_EXCL and mode
/// 0600; whoever opens it checks that it belongs to this user, that no one
/// else may read it, and that it has exactly the size expected, before
/// mapping it.
public final class SharedSegment {
    public private(set) var path: String
    public let base: UnsafeMutableRawPointer
    public let size: Int
    private var linked = true

    private init(path: String, base: UnsafeMutableRawPointer, size: Int) {
        self.path = path
        self.base = base
        self.size = size
    }

    /// A new zero-filled segment; fails if the file exists.
    public static func create(path: String, size: Int) throws -> SharedSegment {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SharedMemoryError(path: path, reason: "cannot create: \(errnoText())") }
        defer { close(fd) }
        // Reserved now, not at first touch: a full /dev/shm (containers
        // default to 64 MB) is then this clear error, not a SIGBUS mid-step.
        let reserved = posix_fallocate(fd, 0, off_t(size))
        guard reserved == 0 else {
            unlink(path)
            throw SharedMemoryError(path: path, reason: "cannot reserve \(size) bytes: \(String(cString: strerror(reserved))) (a larger /dev/shm, or --no-shared-memory on the coordinator)")
        }
        do {
            return SharedSegment(path: path, base: try map(fd, size: size, path: path), size: size)
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Another process's segment, refused unless it is this user's, private and of `size` bytes.
    public static func open(path: String, size: Int) throws -> SharedSegment {
        let fd = Glibc.open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SharedMemoryError(path: path, reason: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SharedMemoryError(path: path, reason: "cannot stat: \(errnoText())") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw SharedMemoryError(path: path, reason: "not a regular file") }
        guard status.st_uid == geteuid() else {
            throw SharedMemoryError(path: path, reason: "belongs to user \(status.st_uid), not this process's user \(geteuid()); refused")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw SharedMemoryError(path: path, reason: "others may open it (mode \(String(status.st_mode & 0o777, radix: 8))); refused")
        }
        guard Int(status.st_size) == size else {
            throw SharedMemoryError(path: path, reason: "is \(status.st_size) bytes where \(size) were expected; refused")
        }
        let segment = SharedSegment(path: path, base: try map(fd, size: size, path: path), size: size)
        segment.linked = false
        return segment
    }

    /// The file was renamed: its new name is the one to remove.
    func rename(to path: String) { self.path = path }

    /// Removes the file; the mapping lives on in every process that has it.
    public func unlinkFile() {
        guard linked else { return }
        linked = false
        unlink(path)
    }

    deinit {
        munmap(base, size)
        unlinkFile()
    }

    private static func map(_ fd: Int32, size: Int, path: String) throws -> UnsafeMutableRawPointer {
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw SharedMemoryError(path: path, reason: "cannot map: \(errnoText())")
        }
        return base
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
