/// Ring member -> its right neighbour: one chunk of one round of a step.
/// Reduce-scatter rounds carry partial fixed-point sums (Int64, raw or
/// packed); all-gather rounds carry updated weights (Float32, raw, or as
/// packed steps from the weights every member held before the step); value
/// exchange rounds, between the two, one member's 16-byte value (two raw
/// 64-bit words; `chunk` names the member), e.g. its part of the squared
/// gradient norm for --clip-norm.
///
/// Frames: [0] header, [1] the values.
public struct RingChunk {
    public enum Phase: UInt8, CustomStringConvertible {
        case reduceScatter = 0
        case allGather = 1
        case valueExchange = 2

        public var description: String {
            switch self {
            case .reduceScatter: return "reduce-scatter"
            case .allGather: return "all-gather"
            case .valueExchange: return "value exchange"
            }
        }

        /// The encodings a chunk of this phase may have.
        var encodings: ClosedRange<UInt8> {
            switch self {
            case .reduceScatter: return Encoding.rawInt64.rawValue...Encoding.packedInt64.rawValue
            case .allGather: return Encoding.rawFloat.rawValue...Encoding.weightSteps.rawValue
            case .valueExchange: return Encoding.rawInt64.rawValue...Encoding.rawInt64.rawValue
            }
        }
    }

    /// The values of a value exchange chunk: one 16-byte value.
    public static let exchangedValueCount = 2

    public enum Encoding: UInt8 {
        case rawInt64 = 0
        case packedInt64 = 1
        case rawFloat = 2
        /// PackedInt64s of each weight's step from its value before the step
        /// (`PackedInt64s.packWeightSteps`): about 2.5 bytes a weight, not 4.
        case weightSteps = 3
    }

    public var generation: UInt64
    public var step: UInt64
    public var phase: Phase
    public var round: UInt32
    public var chunk: UInt32
    /// Reduce-scatter: some member on the chunk's way so far had a non-finite gradient.
    public var nonFinite: Bool
    public var encoding: Encoding
    public var valueCount: UInt32
    /// The link's token from the ring setup: who may send this member chunks.
    public var link: UInt64
    public var values: ZMQMessage

    public init(
        generation: UInt64, step: UInt64, phase: Phase, round: UInt32, chunk: UInt32, nonFinite: Bool,
        encoding: Encoding, valueCount: UInt32, link: UInt64 = 0, values: ZMQMessage
    ) {
        self.link = link
        self.generation = generation; self.step = step; self.phase = phase; self.round = round
        self.chunk = chunk; self.nonFinite = nonFinite; self.encoding = encoding
        self.valueCount = valueCount; self.values = values
    }

    /// Adds the Int64 values onto `sum` (either Int64 encoding), reading the frame in place.
    public func add(into sum: UnsafeMutableBufferPointer<Int64>) {
        precondition(sum.count == Int(valueCount), "chunk of \(valueCount) values for \(sum.count)")
        switch encoding {
        case .rawInt64:
            values.withUnsafeElements(of: Int64.self) { source in
                for i in 0..<source.count { sum[i] &+= source[i] }
            }
        case .packedInt64:
            values.withUnsafeElements(of: UInt64.self) { words in
                PackedInt64s.unpack(UnsafeRawBufferPointer(words), into: sum, overwrite: false)
            }
        case .rawFloat, .weightSteps:
            preconditionFailure("a chunk of weights cannot be added onto a fixed-point sum")
        }
    }

    /// The value of a value exchange chunk.
    public var exchangedValue: SIMD2<UInt64> {
        precondition(phase == .valueExchange, "a \(phase) chunk carries no exchanged value")
        return values.withUnsafeElements(of: UInt64.self) { SIMD2(UInt64(littleEndian: $0[0]), UInt64(littleEndian: $0[1])) }
    }

    /// Writes the chunk's weights into `target`, which holds the weights
    /// before the step: a `weightSteps` chunk is read as steps from them.
    public func writeWeights(into target: UnsafeMutableBufferPointer<Float>) {
        precondition(target.count == Int(valueCount), "a chunk of \(valueCount) weights for \(target.count)")
        switch encoding {
        case .rawFloat:
            values.withUnsafeElements(of: Float.self) { _ = target.update(fromContentsOf: $0) }
        case .weightSteps:
            values.withUnsafeElements(of: UInt64.self) { words in
                PackedInt64s.unpackWeightSteps(UnsafeRawBufferPointer(words), onto: target)
            }
        case .rawInt64, .packedInt64:
            preconditionFailure("a chunk of sums cannot be written as weights")
        }
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        // The checks the receiver makes, so that a sender's mistake shows here.
        try FrameCheck.range(Int(encoding.rawValue), Int(phase.encodings.lowerBound), Int(phase.encodings.upperBound),
                             "\(phase) chunk encoding")
        if phase == .valueExchange {
            try FrameCheck.range(Int(valueCount), Self.exchangedValueCount, Self.exchangedValueCount, "value count of value exchange chunk")
        }
        switch encoding {
        case .rawInt64: try FrameCheck.bytes(values, are: Int(valueCount) * 8, "ring chunk (\(valueCount) Int64s)")
        case .rawFloat: try FrameCheck.bytes(values, are: Int(valueCount) * 4, "ring chunk (\(valueCount) floats)")
        case .packedInt64, .weightSteps:
            try values.withUnsafeBytes { try PackedInt64s.validate($0, count: Int(valueCount), "ring chunk") }
        }
        header.write(generation)
        header.write(step)
        header.write(phase.rawValue)
        header.write(round)
        header.write(chunk)
        header.write(UInt8(nonFinite ? 1 : 0))
        header.write(encoding.rawValue)
        header.write(valueCount)
        header.write(link)
        return BulkFrames(values)
    }

    static func decode(
        _ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>, limits: DecodingLimits
    ) throws -> RingChunk {
        guard let parameterCount = limits.parameterCount else { throw ProtocolError.shapesUnknown(kind: "ring chunk") }
        try FrameCheck.count(bulk, is: 1, for: .ringChunk)
        let generation = try header.read(UInt64.self, "generation")
        let step = try header.read(UInt64.self, "step")
        let phaseByte = try header.read(UInt8.self, "phase")
        guard let phase = Phase(rawValue: phaseByte) else {
            throw ProtocolError.outOfRange(what: "ring phase", value: Int(phaseByte), min: 0, max: 2)
        }
        let round = try header.read(UInt32.self, "round")
        try FrameCheck.range(Int(round), 0, RingSetup.maxSize - 2, "ring round")
        let chunk = try header.read(UInt32.self, "chunk")
        try FrameCheck.range(Int(chunk), 0, RingSetup.maxSize - 1, "ring chunk index")
        let flag = try header.read(UInt8.self, "non-finite flag")
        try FrameCheck.range(Int(flag), 0, 1, "non-finite flag")
        let encodingByte = try header.read(UInt8.self, "chunk encoding")
        guard let encoding = Encoding(rawValue: encodingByte) else {
            throw ProtocolError.outOfRange(what: "chunk encoding", value: Int(encodingByte), min: 0, max: 3)
        }
        guard phase.encodings.contains(encodingByte) else {
            // The range a phase allows, so the error does not call an allowed encoding out of range.
            throw ProtocolError.outOfRange(
                what: "\(phase) chunk encoding", value: Int(encodingByte),
                min: Int(phase.encodings.lowerBound), max: Int(phase.encodings.upperBound))
        }
        let count = try header.read(UInt32.self, "value count")
        try FrameCheck.range(Int(count), 0, parameterCount, "value count of ring chunk")
        if phase == .valueExchange {
            try FrameCheck.range(Int(count), Self.exchangedValueCount, Self.exchangedValueCount, "value count of value exchange chunk")
        }
        let link = try header.read(UInt64.self, "link token")
        try header.finish()
        let values = bulk[bulk.startIndex]
        switch encoding {
        case .rawInt64: try FrameCheck.bytes(values, are: Int(count) * 8, "ring chunk (\(count) Int64s)")
        case .rawFloat: try FrameCheck.bytes(values, are: Int(count) * 4, "ring chunk (\(count) floats)")
        case .packedInt64, .weightSteps:
            try values.withUnsafeBytes { try PackedInt64s.validate($0, count: Int(count), "ring chunk") }
        }
        return RingChunk(
            generation: generation, step: step, phase: phase, round: round, chunk: chunk, nonFinite: flag == 1,
            encoding: encoding, valueCount: count, link: link, values: values)
    }
}
