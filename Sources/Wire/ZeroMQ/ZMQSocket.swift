import CZeroMQ

/// One ZeroMQ socket. Not thread-safe (no libzmq socket is): use it from one thread.
public final class ZMQSocket {
    public enum Kind {
        case router, dealer, pair, push, pull, pub, sub, rep

        var zmqType: Int32 {
            switch self {
            case .router: return ZMQ_ROUTER
            case .dealer: return ZMQ_DEALER
            case .pair: return ZMQ_PAIR
            case .push: return ZMQ_PUSH
            case .pull: return ZMQ_PULL
            case .pub: return ZMQ_PUB
            case .sub: return ZMQ_SUB
            case .rep: return ZMQ_REP
            }
        }
    }

    /// Sends block at most this long unless changed, so no send waits forever
    /// on a peer that never connects or never reads.
    public static let defaultSendTimeoutMilliseconds = 5_000

    public let kind: Kind
    let context: ZMQContext
    private var handle: UnsafeMutableRawPointer?

    public init(context: ZMQContext, kind: Kind) throws {
        guard let handle = zmq_socket(context.handle, kind.zmqType) else {
            throw ZMQError.last("zmq_socket")
        }
        self.context = context
        self.kind = kind
        self.handle = handle
        // libzmq's default linger is infinite: one undeliverable message would
        // then hang context termination, and with it process exit.
        try setLinger(milliseconds: 0)
        try setSendTimeout(milliseconds: Self.defaultSendTimeoutMilliseconds)
    }

    deinit { close() }

    /// Closes the socket; unsent messages are dropped after the linger period. Safe to call twice.
    public func close() {
        guard let handle else { return }
        zmq_close(handle)
        self.handle = nil
    }

    public var isClosed: Bool { handle == nil }

    /// The open handle, or a ZMQError naming `operation` if the socket was closed.
    func openHandle(_ operation: String) throws -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError.closed(operation) }
        return handle
    }

    /// Binds and returns the endpoint actually bound, so `tcp://127.0.0.1:*` yields the real port.
    @discardableResult
    public func bind(_ endpoint: String) throws -> String {
        let handle = try openHandle("zmq_bind(\(endpoint))")
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("zmq_bind(\(endpoint))") }
        return try lastEndpoint()
    }

    public func unbind(_ endpoint: String) throws {
        let handle = try openHandle("zmq_unbind(\(endpoint))")
        guard zmq_unbind(handle, endpoint) == 0 else { throw ZMQError.last("zmq_unbind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws {
        let handle = try openHandle("zmq_connect(\(endpoint))")
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("zmq_connect(\(endpoint))") }
    }

    public func disconnect(_ endpoint: String) throws {
        let handle = try openHandle("zmq_disconnect(\(endpoint))")
        guard zmq_disconnect(handle, endpoint) == 0 else {
            throw ZMQError.last("zmq_disconnect(\(endpoint))")
        }
    }

    /// The endpoint of the last bind or connect (ZMQ_LAST_ENDPOINT).
    public func lastEndpoint() throws -> String {
        let handle = try openHandle("zmq_getsockopt(ZMQ_LAST_ENDPOINT)")
        // Large enough for any tcp endpoint and any ipc path the OS accepts.
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt(ZMQ_LAST_ENDPOINT)")
        }
        return String(cString: buffer)
    }
}
