/// A shared-memory segment that cannot be made or trusted. A segment of
/// another user, of the wrong size or readable by others is never used:
/// whoever put it there could read or forge a ring's traffic.
public struct SharedMemoryError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "shared-memory segment \(path): \(reason)" }
}
