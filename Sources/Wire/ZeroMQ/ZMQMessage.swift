import CZeroMQ

/// One frame: owns a heap-allocated zmq_msg_t and closes it exactly once, in deinit.
///
/// Sending never consumes a ZMQMessage (the socket sends a shared copy), so a
/// message may be sent several times and read after it was sent.
public final class ZMQMessage {
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    /// An empty frame.
    public init() {
        pointer = .allocate(capacity: 1)
        zmq_msg_init(pointer)  // cannot fail: an empty message allocates nothing
    }

    /// A frame of `size` uninitialised bytes for a producer to fill with
    /// `withUnsafeMutableBytes`, so bulk data is written once, straight into the frame.
    public init(size: Int) throws {
        pointer = .allocate(capacity: 1)
        guard zmq_msg_init_size(pointer, size) == 0 else {
            let error = ZMQError.last("zmq_msg_init_size(\(size))")
            pointer.deallocate()
            throw error
        }
    }

    public convenience init(copying bytes: UnsafeRawBufferPointer) throws {
        try self.init(size: bytes.count)
        withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
    }

    public convenience init(copying bytes: [UInt8]) throws {
        try self.init(size: bytes.count)
        withUnsafeMutableBytes { $0.copyBytes(from: bytes) }
    }

    /// A frame that points at `noCopy` without copying it. `owner` must keep
    /// those bytes alive and unchanged; it is retained until libzmq and every
    /// shared copy are done with the frame, then released once, possibly on a
    /// libzmq I/O thread.
    public init(noCopy bytes: UnsafeRawBufferPointer, owner: AnyObject) throws {
        pointer = .allocate(capacity: 1)
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            zmq_msg_init(pointer)
            return
        }
        let retained = Unmanaged.passRetained(owner)
        let rc = zmq_msg_init_data(
            pointer, UnsafeMutableRawPointer(mutating: base), bytes.count,
            { _, hint in
                guard let hint else { return }
                Unmanaged<AnyObject>.fromOpaque(hint).release()
            },
            retained.toOpaque())
        guard rc == 0 else {
            let error = ZMQError.last("zmq_msg_init_data(\(bytes.count))")
            retained.release()
            pointer.deallocate()
            throw error
        }
    }

    deinit {
        zmq_msg_close(pointer)
        pointer.deallocate()
    }

    /// Makes this frame point at `bytes` without copying them and without
    /// any bookkeeping allocation (a libzmq constant message): a sender that
    /// reuses one frame object and one buffer step after step allocates
    /// nothing. The caller must keep the bytes alive and unchanged until the
    /// peer has received them, and must not read this frame's bytes as its own.
    public func refer(to bytes: UnsafeRawBufferPointer) {
        zmq_msg_close(pointer)
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            zmq_msg_init(pointer)
            return
        }
        // With no free function libzmq makes a constant message: it cannot fail or allocate.
        zmq_msg_init_data(pointer, UnsafeMutableRawPointer(mutating: base), bytes.count, nil, nil)
    }

    /// Gives this frame fresh content of `size` uninitialised bytes, as
    /// `init(size:)` does, but in the same object: a sender that refills one
    /// frame object per message allocates only the content, which libzmq
    /// owns and frees once every copy of the old content has been sent.
    public func reinitialise(size: Int) throws {
        zmq_msg_close(pointer)
        guard zmq_msg_init_size(pointer, size) == 0 else {
            let error = ZMQError.last("zmq_msg_init_size(\(size))")
            zmq_msg_init(pointer)
            throw error
        }
    }

    /// Empties the frame for reuse, e.g. as the target of the next receive.
    func clear() {
        zmq_msg_close(pointer)
        zmq_msg_init(pointer)
    }

    /// A second frame sharing this one's buffer (reference counted, no data
    /// copy), e.g. to send the same weights to several peers.
    public func sharedCopy() throws -> ZMQMessage {
        let copy = ZMQMessage()
        guard zmq_msg_copy(copy.pointer, pointer) == 0 else { throw ZMQError.last("zmq_msg_copy") }
        return copy
    }

    public var count: Int { zmq_msg_size(pointer) }

    /// Whether more frames of the same multipart message followed this one when it was received.
    public var hasMore: Bool { zmq_msg_more(pointer) != 0 }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    /// Writes into the frame. Only for a frame this process just made: a
    /// shared copy or a no-copy frame shares its bytes with others.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    /// A copy of the bytes; meant for small frames such as headers and identities.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
