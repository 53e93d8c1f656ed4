/// What one message may hold, judged from its header frame while the rest
/// of its frames are still being taken from the socket: how many frames
/// (the header included) and how large each bulk frame. Frames beyond
/// either are released as they are read, never kept: a message of 64 frames
/// of 4 MB otherwise left up to 64 × 4 MB in a receiver's reused frame
/// slots until a message as long came again (ZMQFrames).
public struct FrameAllowance: Equatable {
    public var frames: Int
    public var bytesPerBulkFrame: Int
    /// For the error: "ring chunk", or "message" when the header is not ours.
    public var kind: String

    public init(frames: Int, bytesPerBulkFrame: Int, kind: String) {
        self.frames = frames
        self.bytesPerBulkFrame = bytesPerBulkFrame
        self.kind = kind
    }
}

/// Decides, from a message's header frame, what the rest of it may be
/// (`ZMQSocket.tryReceive(into:maxFrames:headerIndex:allowance:)`).
public protocol FrameAllowing {
    func allowance(header: ZMQMessage) -> FrameAllowance
}

/// Any frames, as many as `maxFrames`: sockets that take no protocol messages.
public struct AnyFrames: FrameAllowing {
    public init() {}

    public func allowance(header: ZMQMessage) -> FrameAllowance {
        FrameAllowance(frames: .max / 2, bytesPerBulkFrame: .max, kind: "message")
    }
}

extension DecodingLimits: FrameAllowing {
    /// The frames a message whose first frame is `header` may have under
    /// these limits. A header that is not a valid one of this version, or a
    /// kind with bulk frames before the shapes are known, gets the header
    /// alone: the decoder then says what is wrong with it.
    public func allowance(header: ZMQMessage) -> FrameAllowance {
        let kind: WireMessageKind? = header.withUnsafeBytes { raw in
            var reader = FieldReader(raw)
            return try? Header.read(&reader)
        }
        guard let kind else { return FrameAllowance(frames: 1, bytesPerBulkFrame: 0, kind: "message") }
        let bulk: (count: Int, bytes: Int)
        if let parameterCount, inputSize != nil {
            let floats = parameterCount.multipliedReportingOverflow(by: 4)
            let weights = floats.overflow ? Int.max : floats.partialValue
            let pixels = largestFrameBytes >= weights ? largestFrameBytes : weights
            switch kind {
            case .hello, .welcome, .refuse, .heartbeat, .shutdown, .ringAddress, .ringDone, .stateRequest: bulk = (0, 0)
            case .work: bulk = (3, pixels)
            case .gradient, .ringChunk: bulk = (1, largestFrameWithoutPixels)
            // Weights, then the optimiser's state: up to two planes (Adam's moments).
            case .ringSetup, .stateSlice: bulk = (2, weights > Int.max / 2 ? Int.max : 2 * weights)
            case .ringWork: bulk = (2, pixels)
            }
        } else {
            bulk = (0, 0)
        }
        return FrameAllowance(frames: 1 + bulk.count, bytesPerBulkFrame: bulk.bytes, kind: kind.description)
    }
}
