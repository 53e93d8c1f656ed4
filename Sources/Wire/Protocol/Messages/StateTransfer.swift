/// Coordinator -> ring member: send me your slice of the state, so I can
/// checkpoint, evaluate, or keep a snapshot to fall back on.
public struct StateRequest: Equatable {
    public var generation: UInt64
    public var step: UInt64

    public init(generation: UInt64, step: UInt64) {
        self.generation = generation
        self.step = step
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        header.write(generation)
        header.write(step)
        return BulkFrames()
    }

    static func decode(_ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>) throws -> StateRequest {
        try FrameCheck.count(bulk, is: 0, for: .stateRequest)
        let generation = try header.read(UInt64.self, "generation")
        let step = try header.read(UInt64.self, "step")
        try header.finish()
        return StateRequest(generation: generation, step: step)
    }
}

/// Ring member -> coordinator: the weights and optimiser state of the slice it owns.
///
/// Frames: [0] header, [1] weights (Float32 × count), [2] optimiser state
/// (Float32 × planes × count: SGD's velocity, or Adam's two moments, each
/// plane's slice after the other). The coordinator checks the planes
/// against its own optimiser.
public struct StateSlice {
    public var generation: UInt64
    public var step: UInt64
    public var start: UInt64
    public var count: UInt64
    /// 1 or 2.
    public var planes: UInt8
    public var weights: ZMQMessage
    public var velocity: ZMQMessage

    public init(
        generation: UInt64, step: UInt64, start: UInt64, count: UInt64, planes: UInt8 = 1, weights: ZMQMessage,
        velocity: ZMQMessage
    ) {
        self.generation = generation; self.step = step; self.start = start; self.count = count; self.planes = planes
        self.weights = weights; self.velocity = velocity
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try FrameCheck.bytes(weights, are: Int(count) * 4, "weights frame of state slice")
        try FrameCheck.range(Int(planes), 1, 2, "state planes")
        try FrameCheck.bytes(velocity, are: Int(planes) * Int(count) * 4, "optimiser state frame of state slice")
        header.write(generation)
        header.write(step)
        header.write(start)
        header.write(count)
        header.write(planes)
        return BulkFrames(weights, velocity)
    }

    static func decode(
        _ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>, limits: DecodingLimits
    ) throws -> StateSlice {
        guard let parameterCount = limits.parameterCount else { throw ProtocolError.shapesUnknown(kind: "state slice") }
        try FrameCheck.count(bulk, is: 2, for: .stateSlice)
        let generation = try header.read(UInt64.self, "generation")
        let step = try header.read(UInt64.self, "step")
        let start = try header.read(UInt64.self, "slice start")
        let count = try header.read(UInt64.self, "slice count")
        let planes = try header.read(UInt8.self, "state planes")
        try header.finish()
        try FrameCheck.range(Int(planes), 1, 2, "state planes")
        try FrameCheck.range(Int(clamping: start), 0, parameterCount, "slice start")
        try FrameCheck.range(Int(clamping: count), 0, parameterCount - Int(start), "slice count")
        let first = bulk.startIndex
        try FrameCheck.bytes(bulk[first], are: Int(count) * 4, "weights frame of state slice (\(count) floats)")
        try FrameCheck.bytes(bulk[first + 1], are: Int(planes) * Int(count) * 4,
                             "optimiser state frame of state slice (\(planes) × \(count) floats)")
        return StateSlice(
            generation: generation, step: step, start: start, count: count, planes: planes,
            weights: bulk[first], velocity: bulk[first + 1])
    }
}
