/// The routing identity a ROUTER socket puts in front of every message from a peer.
public struct PeerID: Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String {
        "0x" + bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// ROUTER helpers: a routed message is [identity, frames...] on the wire.
extension ZMQSocket {
    /// Sends `frames` to one peer. With router-mandatory set, an unknown peer
    /// fails with `ZMQError.isHostUnreachable` instead of being dropped silently.
    public func send(to peer: PeerID, _ frames: [ZMQMessage]) throws {
        try send(frames, prefix: try ZMQMessage(copying: peer.bytes))
    }

    /// Receives one routed message, waiting at most `timeoutMilliseconds`; nil on timeout.
    public func receiveRouted(
        timeoutMilliseconds: Int, maxFrames: Int = defaultMaxFrames
    ) throws -> (peer: PeerID, frames: [ZMQMessage])? {
        try receive(timeoutMilliseconds: timeoutMilliseconds, maxFrames: maxFrames + 1).map(Self.split)
    }

    /// Receives one routed message if one is waiting.
    public func tryReceiveRouted(maxFrames: Int = defaultMaxFrames) throws -> (peer: PeerID, frames: [ZMQMessage])? {
        try tryReceive(maxFrames: maxFrames + 1).map(Self.split)
    }

    private static func split(_ frames: [ZMQMessage]) -> (peer: PeerID, frames: [ZMQMessage]) {
        // A ROUTER always delivers at least the identity frame.
        (PeerID(frames.first?.bytes ?? []), Array(frames.dropFirst()))
    }
}
