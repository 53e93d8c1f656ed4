/// Sends protocol messages with a header buffer kept from one message to
/// the next, and the bulk frames passed straight through: a loop that
/// sends through one sender allocates nothing of its own per message
/// (libzmq still copies a header of more than 33 bytes into a buffer of its own).
public final class WireSender {
    private var header = FieldWriter()

    public init() {}

    /// Sends `message` on `socket`, to `peer` if the socket is a ROUTER.
    public func send(_ message: WireMessage, on socket: ZMQSocket, to peer: PeerID? = nil) throws {
        Header.start(&header, kind: message.kind)
        let bulk = try message.encodeFields(into: &header)
        try header.withBytes { bytes in
            try socket.send(header: bytes, bulk: bulk, to: peer)
        }
    }
}
