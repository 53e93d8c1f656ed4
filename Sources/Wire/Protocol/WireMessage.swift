/// Every message of the protocol. Each kind has one encoder and one decoder,
/// in its own file under Messages/; this type only dispatches on the header.
public enum WireMessage {
    case hello(Hello)
    case welcome(Welcome)
    case refuse(reason: String)
    case work(Work)
    case gradient(Gradient)
    case heartbeat
    case shutdown(reason: String)

    public var kind: WireMessageKind {
        switch self {
        case .hello: return .hello
        case .welcome: return .welcome
        case .refuse: return .refuse
        case .work: return .work
        case .gradient: return .gradient
        case .heartbeat: return .heartbeat
        case .shutdown: return .shutdown
        }
    }

    /// The frames to send. Bulk frames are the caller's own messages, not copies.
    public func encode() throws -> [ZMQMessage] {
        switch self {
        case .hello(let hello): return try hello.encode()
        case .welcome(let welcome): return try welcome.encode()
        case .refuse(let reason): return try RefuseCodec.encode(reason: reason)
        case .work(let work): return try work.encode()
        case .gradient(let gradient): return try gradient.encode()
        case .heartbeat: return try HeartbeatCodec.encode()
        case .shutdown(let reason): return try ShutdownCodec.encode(reason: reason)
        }
    }

    public static func decode(_ frames: [ZMQMessage], limits: DecodingLimits) throws -> WireMessage {
        try decode(frames[...], limits: limits)
    }

    /// Decodes one message, checking everything against the header and
    /// `limits` first; bulk frames are kept as they arrived, without a copy.
    public static func decode(_ frames: ArraySlice<ZMQMessage>, limits: DecodingLimits) throws -> WireMessage {
        guard let first = frames.first else {
            throw ProtocolError.wrongFrameCount(kind: "any", expected: 1, actual: 0)
        }
        let bulk = frames.dropFirst()
        return try first.withUnsafeBytes { raw in
            var header = FieldReader(raw)
            let kind = try Header.read(&header)
            header.kind = kind
            switch kind {
            case .hello: return .hello(try Hello.decode(&header, bulk: bulk))
            case .welcome: return .welcome(try Welcome.decode(&header, bulk: bulk))
            case .refuse: return .refuse(reason: try RefuseCodec.decode(&header))
            case .work: return .work(try Work.decode(&header, bulk: bulk, limits: limits))
            case .gradient: return .gradient(try Gradient.decode(&header, bulk: bulk, limits: limits))
            case .heartbeat:
                try HeartbeatCodec.decode(&header, bulk: bulk)
                return .heartbeat
            case .shutdown: return .shutdown(reason: try ShutdownCodec.decode(&header, bulk: bulk))
            }
        }
    }
}
