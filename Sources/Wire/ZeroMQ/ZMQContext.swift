import CZeroMQ

/// A libzmq context. Every socket keeps its context alive, so the context is
/// terminated (in deinit) only after all its sockets have been closed, and
/// zmq_ctx_term cannot block on a socket we still hold.
public final class ZMQContext: @unchecked Sendable {
    // libzmq contexts are thread-safe, which is what makes @unchecked Sendable true.
    let handle: UnsafeMutableRawPointer

    /// One context per process is what libzmq recommends. Creating it fails
    /// only when the process is out of file descriptors or memory; that is
    /// reported to the caller (and then to the user) like any socket error,
    /// every time it is asked for.
    public static func shared() throws -> ZMQContext { try sharedContext.get() }

    private static let sharedContext = Result { try ZMQContext() }

    public init() throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
    }

    /// Background threads that move bytes between sockets and the kernel.
    /// Must be set before the context's first socket. A coordinator receiving
    /// megabytes from several workers at once drains them in parallel with
    /// more than one.
    public func setIOThreads(_ count: Int) throws {
        guard zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(count)) == 0 else {
            throw ZMQError.last("zmq_ctx_set(ZMQ_IO_THREADS)")
        }
    }

    private var terminated = false

    /// Ends the context once all its sockets are closed, first waiting (up to
    /// each socket's linger) until their queued messages have been sent.
    /// Call it before a process exits with messages still on their way.
    public func terminate() {
        guard !terminated else { return }
        terminated = true
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    deinit { terminate() }
}
