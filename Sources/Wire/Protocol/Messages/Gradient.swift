/// Worker -> coordinator: the summed gradient of the shards it was given.
/// Sums are fixed-point Int64 so the coordinator's reduction is exact and
/// independent of how shards were grouped.
///
/// Frames: [0] header, [1] gradient: Int64 × parameterCount (`raw`), or the
/// same values in PackedInt64s' block format (`packed`, about half the bytes).
public struct Gradient {
    public enum Encoding: UInt8 {
        case raw = 0
        case packed = 1
    }

    /// The step of the work it answers.
    public var step: UInt64
    public var lossSumFixedPoint: Int64
    public var correct: UInt32
    public var sampleCount: UInt32
    public var computeNanoseconds: UInt64
    public var shardIDs: ShardIDs
    public var gradient: ZMQMessage
    public var encoding: Encoding

    public init(
        step: UInt64, lossSumFixedPoint: Int64, correct: UInt32,
        sampleCount: UInt32, computeNanoseconds: UInt64, shardIDs: ShardIDs, gradient: ZMQMessage,
        encoding: Encoding = .raw
    ) {
        self.encoding = encoding
        self.step = step
        self.lossSumFixedPoint = lossSumFixedPoint
        self.correct = correct
        self.sampleCount = sampleCount
        self.computeNanoseconds = computeNanoseconds
        self.shardIDs = shardIDs
        self.gradient = gradient
    }

    /// A raw frame's values where they lie, for a reducer that keeps the
    /// frame rather than copying it (nil for a packed or misaligned frame).
    /// Valid while `gradient` holds this content.
    public var valuesInPlace: UnsafeMutableBufferPointer<Int64>? {
        encoding == .raw ? gradient.elementsInPlace(of: Int64.self) : nil
    }

    /// Adds the gradient onto `sum` (or stores it, with `overwrite`), from
    /// either encoding, reading the received frame in place.
    public func unpack(into sum: UnsafeMutableBufferPointer<Int64>, overwrite: Bool) {
        switch encoding {
        case .raw:
            gradient.withUnsafeElements(of: Int64.self) { values in
                precondition(values.count == sum.count, "gradient of \(values.count) values for a sum of \(sum.count)")
                if overwrite {
                    _ = sum.update(fromContentsOf: values)
                } else {
                    for i in 0..<values.count { sum[i] &+= values[i] }
                }
            }
        case .packed:
            // Viewed as UInt64s so a misaligned frame is copied once to an aligned one.
            gradient.withUnsafeElements(of: UInt64.self) { words in
                PackedInt64s.unpack(UnsafeRawBufferPointer(words), into: sum, overwrite: overwrite)
            }
        }
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try FrameCheck.range(shardIDs.count, 1, Int(UInt32.max), "shard count of gradient")
        try FrameCheck.range(Int(correct), 0, Int(sampleCount), "correct count of gradient")
        try FrameCheck.bytes(gradient, are: gradient.count / 8 * 8, "gradient frame")
        header.write(step)
        header.write(lossSumFixedPoint)
        header.write(correct)
        header.write(sampleCount)
        header.write(computeNanoseconds)
        header.write(encoding.rawValue)
        header.write(UInt32(shardIDs.count))
        for id in shardIDs { header.write(id) }
        return BulkFrames(gradient)
    }

    static func decode(
        _ header: inout FieldReader, frame: ZMQMessage, bulk: ArraySlice<ZMQMessage>, limits: DecodingLimits
    ) throws -> Gradient {
        guard let parameterCount = limits.parameterCount else { throw ProtocolError.shapesUnknown(kind: "gradient") }
        try FrameCheck.count(bulk, is: 1, for: .gradient)
        try FrameCheck.range(parameterCount, 1, limits.maxParameterCount, "parameter count")
        let step = try header.read(UInt64.self, "step")
        let loss = try header.read(Int64.self, "loss sum")
        let correct = try header.read(UInt32.self, "correct count")
        let samples = try header.read(UInt32.self, "sample count")
        let nanoseconds = try header.read(UInt64.self, "compute time")
        let encodingByte = try header.read(UInt8.self, "gradient encoding")
        guard let encoding = Encoding(rawValue: encodingByte) else {
            throw ProtocolError.outOfRange(what: "gradient encoding", value: Int(encodingByte), min: 0, max: 1)
        }
        let shardCount = Int(try header.read(UInt32.self, "shard count"))
        try FrameCheck.range(shardCount, 1, limits.maxShards, "shard count of gradient")
        let maxSamples = try FrameCheck.product(shardCount, limits.shardSize, "shard count × shard size")
        try FrameCheck.range(Int(samples), 1, maxSamples, "sample count of gradient")
        try FrameCheck.range(Int(correct), 0, Int(samples), "correct count of gradient")
        try header.expectExactly(shardCount, of: 4, "shard ids")
        // Read in place when used: decoding builds no list.
        let shardIDs = ShardIDs(frame: frame, offset: header.offset, count: shardCount)
        let gradient = bulk[bulk.startIndex]
        switch encoding {
        case .raw:
            let gradientBytes = try FrameCheck.product(parameterCount, 8, "parameter count")
            try FrameCheck.bytes(gradient, are: gradientBytes, "gradient frame (\(parameterCount) Int64s)")
        case .packed:
            try gradient.withUnsafeBytes { try PackedInt64s.validate($0, count: parameterCount, "gradient frame") }
        }
        return Gradient(
            step: step, lossSumFixedPoint: loss, correct: correct,
            sampleCount: samples, computeNanoseconds: nanoseconds, shardIDs: shardIDs, gradient: gradient,
            encoding: encoding)
    }
}
