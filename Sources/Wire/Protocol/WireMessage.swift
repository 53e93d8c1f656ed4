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
    case ringAddress(RingAddress)
    case ringSetup(RingSetup)
    case ringWork(RingWork)
    case ringChunk(RingChunk)
    case ringDone(RingDone)
    case stateRequest(StateRequest)
    case stateSlice(StateSlice)

    public var kind: WireMessageKind {
        switch self {
        case .hello: return .hello
        case .welcome: return .welcome
        case .refuse: return .refuse
        case .work: return .work
        case .gradient: return .gradient
        case .heartbeat: return .heartbeat
        case .shutdown: return .shutdown
        case .ringAddress: return .ringAddress
        case .ringSetup: return .ringSetup
        case .ringWork: return .ringWork
        case .ringChunk: return .ringChunk
        case .ringDone: return .ringDone
        case .stateRequest: return .stateRequest
        case .stateSlice: return .stateSlice
        }
    }

    /// The frames to send. Bulk frames are the caller's own messages, not copies.
    public func encode() throws -> [ZMQMessage] {
        var header = Header.writer(for: kind)
        let bulk = try encodeFields(into: &header)
        return [try header.frame()] + bulk.frames
    }

    /// Writes this message's fields after the header `header` was started
    /// with, and returns its bulk frames.
    func encodeFields(into header: inout FieldWriter) throws -> BulkFrames {
        switch self {
        case .hello(let hello): return try hello.encode(into: &header)
        case .welcome(let welcome): return try welcome.encode(into: &header)
        case .refuse(let reason): return try RefuseCodec.encode(reason: reason, into: &header)
        case .work(let work): return try work.encode(into: &header)
        case .gradient(let gradient): return try gradient.encode(into: &header)
        case .heartbeat: return try HeartbeatCodec.encode(into: &header)
        case .shutdown(let reason): return try ShutdownCodec.encode(reason: reason, into: &header)
        case .ringAddress(let address): return try address.encode(into: &header)
        case .ringSetup(let setup): return try setup.encode(into: &header)
        case .ringWork(let work): return try work.encode(into: &header)
        case .ringChunk(let chunk): return try chunk.encode(into: &header)
        case .ringDone(let done): return try done.encode(into: &header)
        case .stateRequest(let request): return try request.encode(into: &header)
        case .stateSlice(let slice): return try slice.encode(into: &header)
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
            case .work: return .work(try Work.decode(&header, frame: first, bulk: bulk, limits: limits))
            case .gradient: return .gradient(try Gradient.decode(&header, frame: first, bulk: bulk, limits: limits))
            case .heartbeat:
                try HeartbeatCodec.decode(&header, bulk: bulk)
                return .heartbeat
            case .shutdown: return .shutdown(reason: try ShutdownCodec.decode(&header, bulk: bulk))
            case .ringAddress: return .ringAddress(try RingAddress.decode(&header, bulk: bulk))
            case .ringSetup: return .ringSetup(try RingSetup.decode(&header, bulk: bulk, limits: limits))
            case .ringWork: return .ringWork(try RingWork.decode(&header, frame: first, bulk: bulk, limits: limits))
            case .ringChunk: return .ringChunk(try RingChunk.decode(&header, bulk: bulk, limits: limits))
            case .ringDone: return .ringDone(try RingDone.decode(&header, bulk: bulk, limits: limits))
            case .stateRequest: return .stateRequest(try StateRequest.decode(&header, bulk: bulk))
            case .stateSlice: return .stateSlice(try StateSlice.decode(&header, bulk: bulk, limits: limits))
            }
        }
    }
}
