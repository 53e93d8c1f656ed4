import CZeroMQ
import Foundation

/// Failed handshakes on one socket, from libzmq's socket monitor: how a
/// CURVE server learns of a client that never reached its ZAP handler (a
/// plaintext peer, a wrong mechanism, garbage), which it would otherwise
/// drop without a word. Read without waiting, from the socket's own thread.
public final class ZMQHandshakeMonitor {
    public struct Failure: Equatable, CustomStringConvertible {
        public var event: Int32
        /// libzmq's detail: a ZMQ_PROTOCOL_ERROR_* code or a ZAP status.
        public var value: UInt32
        public var endpoint: String

        public var description: String {
            switch (event, value) {
            case (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, UInt32(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)):
                return "a peer without CURVE (plaintext or another mechanism) failed its handshake on \(endpoint)"
            case (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, let status):
                return "a peer was refused by the ZAP handler (status \(status)) on \(endpoint)"
            case (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, let code):
                return "a peer broke the handshake protocol (libzmq error 0x\(String(code, radix: 16))) on \(endpoint)"
            default:
                return "a peer failed its handshake on \(endpoint)"
            }
        }
    }

    private nonisolated(unsafe) static var count = 0
    private static let countLock = NSLock()

    private let reader: ZMQSocket

    public init(watching socket: ZMQSocket) throws {
        let number = Self.countLock.withLock { () -> Int in
            Self.count += 1
            return Self.count
        }
        let address = "inproc://dptrain-handshake-monitor-\(getpid())-\(number)"
        let handle = try socket.openHandle("zmq_socket_monitor")
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
        guard zmq_socket_monitor(handle, address, events) == 0 else { throw ZMQError.last("zmq_socket_monitor") }
        reader = try ZMQSocket(context: socket.context, kind: .pair)
        try reader.connect(address)
    }

    /// The ZAP handler logs its own refusals, with the peer's address.
    public static let refusedByZAP = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH

    /// Closes the reading end; call before the context ends. Safe to call twice.
    public func close() { reader.close() }

    deinit { close() }

    /// Every failure reported since the last call.
    public func failures() -> [Failure] {
        var found: [Failure] = []
        while let frames = try? reader.tryReceive(), frames.count >= 2, frames[0].count >= 6 {
            let (event, value) = frames[0].withUnsafeBytes { bytes in
                (Int32(bytes.loadUnaligned(as: UInt16.self)), bytes.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            }
            found.append(Failure(event: event, value: value, endpoint: String(decoding: frames[1].bytes, as: UTF8.self)))
        }
        return found
    }
}
