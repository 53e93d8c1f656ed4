import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A libzmq call failed. `code` is libzmq's errno, `message` its zmq_strerror text.
public struct ZMQError: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var code: Int32
    public var message: String

    public init(operation: String, code: Int32, message: String) {
        self.operation = operation
        self.code = code
        self.message = message
    }

    /// Captures zmq_errno() right after a failed call, before anything else can overwrite it.
    static func last(_ operation: String) -> ZMQError {
        let code = zmq_errno()
        return ZMQError(operation: operation, code: code, message: String(cString: zmq_strerror(code)))
    }

    static func closed(_ operation: String) -> ZMQError {
        ZMQError(operation: operation, code: ENOTSOCK, message: "socket is closed")
    }

    static func invalidArgument(_ operation: String, _ message: String) -> ZMQError {
        ZMQError(operation: operation, code: EINVAL, message: message)
    }

    /// A signal arrived during a blocking call; loops check this to stop cleanly on SIGINT/SIGTERM.
    public var isInterrupted: Bool { code == EINTR }

    /// A send timed out (ZMQ_SNDTIMEO) or a non-blocking operation could not proceed.
    public var isWouldBlock: Bool { code == EAGAIN }

    /// A received message had more frames, or larger ones, than allowed; it was drained and dropped.
    public var isOversized: Bool { code == EMSGSIZE }

    /// ROUTER_MANDATORY refused a message for a peer it does not know (or no longer knows).
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }

    public var description: String { "\(operation) failed: \(message) (errno \(code))" }
}
