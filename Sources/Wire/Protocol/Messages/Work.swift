/// Coordinator -> worker: compute gradients for these micro-shards with these weights.
///
/// Frames: [0] header, [1] weights, [2] pixels (UInt8 × samples ×
/// inputSize), [3] labels (UInt8 × samples), where samples is the sum of
/// the shards' sample counts. The weights are Float32 × parameterCount
/// (`raw`); or, to a worker that holds the weights of step `baseStep`, each
/// weight's step from them (`steps`, PackedInt64s.packWeightSteps, about
/// 2.5 bytes a weight); or nothing, to a worker that holds this step's
/// weights already (`held`: a second work of the same step).
public struct Work {
    public enum WeightsEncoding: UInt8 {
        case raw = 0
        case steps = 1
        case held = 2
    }

    public struct Shard: Equatable {
        public var shardID: UInt32
        public var sampleCount: UInt32

        public init(shardID: UInt32, sampleCount: UInt32) {
            self.shardID = shardID
            self.sampleCount = sampleCount
        }
    }

    /// The step these weights were left by and the gradient is for: a reply
    /// counts only for the step in flight, so it never mixes weights.
    public var step: UInt64
    public var shards: ShardList
    public var weights: ZMQMessage
    public var weightsEncoding: WeightsEncoding
    /// `steps`: the step whose weights the steps start from.
    public var baseStep: UInt64
    public var pixels: ZMQMessage
    public var labels: ZMQMessage

    public init(
        step: UInt64, shards: [Shard], weights: ZMQMessage, weightsEncoding: WeightsEncoding = .raw, baseStep: UInt64 = 0,
        pixels: ZMQMessage, labels: ZMQMessage
    ) {
        self.weightsEncoding = weightsEncoding
        self.baseStep = baseStep
        self.step = step
        self.shards = ShardList(shards)
        self.weights = weights
        self.pixels = pixels
        self.labels = labels
    }

    public var sampleCount: Int { shards.reduce(0) { $0 + Int($1.sampleCount) } }

    /// Raw weights only (`weightsEncoding == .raw`).
    public func withWeights<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try weights.withUnsafeElements(of: Float.self, body)
    }

    /// Steps `held`, the weights of `baseStep`, to this work's (`.steps` only).
    public func applySteps(onto held: UnsafeMutableBufferPointer<Float>) {
        precondition(weightsEncoding == .steps, "\(weightsEncoding) weights are not steps")
        weights.withUnsafeElements(of: UInt64.self) { words in
            PackedInt64s.unpackWeightSteps(UnsafeRawBufferPointer(words), onto: held)
        }
    }

    /// Samples one after another, each `inputSize` bytes.
    public func withPixels<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try pixels.withUnsafeElements(of: UInt8.self, body)
    }

    public func withLabels<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try labels.withUnsafeElements(of: UInt8.self, body)
    }

    /// Checks what the encoder can know without the limits: the frames agree with the shards.
    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try FrameCheck.range(shards.count, 1, Int(UInt32.max), "shard count of work")
        let samples = sampleCount
        for shard in shards {
            try FrameCheck.range(Int(shard.sampleCount), 1, Int(UInt32.max), "sample count of shard \(shard.shardID)")
        }
        try FrameCheck.bytes(labels, are: samples, "labels frame of work")
        let inputSize = pixels.count / samples
        try FrameCheck.bytes(pixels, are: samples * inputSize, "pixels frame of work")
        switch weightsEncoding {
        case .raw: try FrameCheck.bytes(weights, are: weights.count / 4 * 4, "weights frame of work")
        case .steps: try FrameCheck.bytes(weights, are: weights.count / 8 * 8, "weight steps frame of work")
        case .held: try FrameCheck.bytes(weights, are: 0, "weights frame of work (held)")
        }
        header.write(step)
        header.write(weightsEncoding.rawValue)
        header.write(baseStep)
        // The shard list fills the rest of the header.
        shards.encode(into: &header)
        return BulkFrames(weights, pixels, labels)
    }

    static func decode(
        _ header: inout FieldReader, frame: ZMQMessage, bulk: ArraySlice<ZMQMessage>, limits: DecodingLimits
    ) throws -> Work {
        guard let parameterCount = limits.parameterCount, let inputSize = limits.inputSize else {
            throw ProtocolError.shapesUnknown(kind: "work")
        }
        try FrameCheck.count(bulk, is: 3, for: .work)
        try FrameCheck.range(parameterCount, 1, limits.maxParameterCount, "parameter count")
        let step = try header.read(UInt64.self, "step")
        let encodingByte = try header.read(UInt8.self, "weights encoding")
        guard let encoding = WeightsEncoding(rawValue: encodingByte) else {
            throw ProtocolError.outOfRange(what: "weights encoding of work", value: Int(encodingByte), min: 0, max: 2)
        }
        let baseStep = try header.read(UInt64.self, "base step")
        let (shards, samples) = try ShardList.decode(&header, frame: frame, limits: limits, minCount: 1, of: "work")
        let first = bulk.startIndex
        var work = Work(step: step, shards: [], weights: bulk[first], weightsEncoding: encoding, baseStep: baseStep,
                        pixels: bulk[first + 1], labels: bulk[first + 2])
        work.shards = shards
        let weightBytes = try FrameCheck.product(parameterCount, 4, "parameter count")
        let pixelBytes = try FrameCheck.product(samples, inputSize, "samples × input size")
        switch encoding {
        case .raw: try FrameCheck.bytes(work.weights, are: weightBytes, "weights frame of work (\(parameterCount) floats)")
        case .steps:
            try work.weights.withUnsafeBytes { try PackedInt64s.validate($0, count: parameterCount, "weight steps of work") }
        case .held: try FrameCheck.bytes(work.weights, are: 0, "weights frame of work (held)")
        }
        try FrameCheck.bytes(work.pixels, are: pixelBytes, "pixels frame of work (\(samples) samples × \(inputSize))")
        try FrameCheck.bytes(work.labels, are: samples, "labels frame of work (\(samples) samples)")
        return work
    }
}
