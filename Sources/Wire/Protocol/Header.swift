/// The kinds of message. The numbers are part of the wire format; refuse's is frozen forever.
public enum WireMessageKind: UInt8, CustomStringConvertible, CaseIterable {
    case hello = 1, welcome = 2, refuse = 3, work = 4, gradient = 5, heartbeat = 6, shutdown = 7
    case ringAddress = 8, ringSetup = 9, ringWork = 10, ringChunk = 11, ringDone = 12
    case stateRequest = 13, stateSlice = 14

    public var description: String {
        switch self {
        case .hello: return "hello"
        case .welcome: return "welcome"
        case .refuse: return "refuse"
        case .work: return "work"
        case .gradient: return "gradient"
        case .heartbeat: return "heartbeat"
        case .shutdown: return "shutdown"
        case .ringAddress: return "ring address"
        case .ringSetup: return "ring setup"
        case .ringWork: return "ring work"
        case .ringChunk: return "ring chunk"
        case .ringDone: return "ring done"
        case .stateRequest: return "state request"
        case .stateSlice: return "state slice"
        }
    }
}

/// Frame 0 of every message: "DPTR", UInt16 version, UInt8 kind, UInt8 reserved (0), little-endian.
enum Header {
    static let magic: [UInt8] = Array("DPTR".utf8)
    static let size = 8

    static func writer(for kind: WireMessageKind, version: UInt16 = wireProtocolVersion) -> FieldWriter {
        var writer = FieldWriter()
        start(&writer, kind: kind, version: version)
        return writer
    }

    /// Empties `writer` (keeping its storage) and writes the header of `kind`.
    static func start(_ writer: inout FieldWriter, kind: WireMessageKind, version: UInt16 = wireProtocolVersion) {
        writer.removeAll()
        for byte in magic { writer.write(byte) }
        writer.write(version)
        writer.write(kind.rawValue)
        writer.write(UInt8(0))
    }

    /// Reads the header and leaves `reader` at the kind's first field. Magic
    /// is checked first, then the version, before anything else is trusted;
    /// only a refuse is read at any version, so every worker can learn why.
    static func read(_ reader: inout FieldReader) throws -> WireMessageKind {
        let found = reader.bytes.prefix(magic.count)
        guard found.count == magic.count else {
            throw ProtocolError.truncated(what: "header", needed: size, available: reader.bytes.count)
        }
        // Compared in place; the bytes are copied only into an error.
        guard found.elementsEqual(magic) else { throw ProtocolError.badMagic(found: Array(found)) }
        _ = try reader.readBytes(magic.count, "magic")
        let version = try reader.read(UInt16.self, "version")
        let kindByte = reader.remaining > 0 ? reader.bytes[reader.offset] : nil
        if kindByte == WireMessageKind.refuse.rawValue {
            _ = try reader.read(UInt16.self, "kind and reserved byte")
            return .refuse
        }
        guard version == wireProtocolVersion else {
            throw ProtocolError.versionMismatch(theirs: version, ours: wireProtocolVersion)
        }
        let rawKind = try reader.read(UInt8.self, "kind")
        let reserved = try reader.read(UInt8.self, "reserved byte")
        guard let kind = WireMessageKind(rawValue: rawKind) else { throw ProtocolError.unknownKind(rawKind) }
        guard reserved == 0 else { throw ProtocolError.reservedByte(reserved) }
        return kind
    }
}
