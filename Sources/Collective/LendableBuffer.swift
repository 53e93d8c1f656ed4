/// A buffer that sends may point into without copying it, and that refuses
/// to be written while they might still read it. A zero-copy frame shares
/// the buffer's bytes with libzmq until the peer has them; writing them
/// sooner would send a torn mixture of old and new values, silently.
///
/// Whoever sends calls `lend` for the range its frames refer to, and
/// `settle()` once the protocol proves every such send complete (a reply, or
/// the peer dropped so that its answer is refused). Writing a lent range
/// throws until then; other ranges stay writable (a ring member receives
/// one all-gather piece while the piece before is still on its way out).
public final class LendableBuffer<Element> {
    private let storage: UnsafeMutableBufferPointer<Element>
    /// Kept and refilled, so lending allocates nothing once warm.
    private var lent: [Range<Int>] = []

    public init(count: Int, repeating value: Element) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: value)
    }

    /// Contents left unwritten, for a scratch buffer that is always written
    /// before it is read: its pages stay out of memory until then.
    public init(uninitializedCount count: Int) where Element: BitwiseCopyable {
        storage = .allocate(capacity: count)
    }

    deinit { storage.deallocate() }

    public var count: Int { storage.count }

    public var isLent: Bool { !lent.isEmpty }

    /// The values to read (not to send: sends take `lend`).
    public var readOnly: UnsafeBufferPointer<Element> { UnsafeBufferPointer(storage) }

    /// `range` for a zero-copy send to point at; unwritable until `settle()`.
    public func lend(_ range: Range<Int>) -> UnsafeBufferPointer<Element> {
        lent.append(range)
        return UnsafeBufferPointer(rebasing: storage[range])
    }

    /// The whole buffer, lent.
    public func lendAll() -> UnsafeBufferPointer<Element> { lend(0..<storage.count) }

    /// Every send that pointed here is known to be complete.
    public func settle() { lent.removeAll(keepingCapacity: true) }

    /// Writes `range`, and only it, through the whole buffer (so that
    /// indices stay the buffer's own); throws `BufferStillLent` while a send
    /// may read any of it.
    public func write<R>(_ range: Range<Int>, _ body: (UnsafeMutableBufferPointer<Element>) throws -> R) throws -> R {
        guard !lent.contains(where: { $0.overlaps(range) }) else { throw BufferStillLent() }
        return try body(storage)
    }

    /// Writes the whole buffer.
    public func write<R>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> R) throws -> R {
        try write(0..<storage.count, body)
    }
}

/// A bug, not bad input: code wrote a buffer that a zero-copy send still held.
public struct BufferStillLent: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "a buffer was written while a zero-copy send still held it (a bug in dptrain)" }
}
