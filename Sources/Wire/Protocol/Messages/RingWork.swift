/// Coordinator -> ring member: one step's micro-shards and what the update
/// needs. No weights travel: every member already holds them.
///
/// Frames: [0] header, [1] pixels (UInt8 × samples × inputSize),
/// [2] labels (UInt8 × samples); a member given no shards gets empty frames
/// and still takes its part in the ring.
public struct RingWork {
    public var generation: UInt64
    public var step: UInt64
    public var learningRate: Float
    /// Samples in the whole global batch: the divisor of the mean gradient.
    public var batchSamples: UInt32
    public var shards: ShardList
    public var pixels: ZMQMessage
    public var labels: ZMQMessage

    public init(
        generation: UInt64, step: UInt64, learningRate: Float, batchSamples: UInt32,
        shards: [Work.Shard], pixels: ZMQMessage, labels: ZMQMessage
    ) {
        self.generation = generation; self.step = step; self.learningRate = learningRate
        self.batchSamples = batchSamples; self.shards = ShardList(shards); self.pixels = pixels; self.labels = labels
    }

    public var sampleCount: Int { shards.reduce(0) { $0 + Int($1.sampleCount) } }

    public func withPixels<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try pixels.withUnsafeElements(of: UInt8.self, body)
    }

    public func withLabels<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try labels.withUnsafeElements(of: UInt8.self, body)
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try FrameCheck.range(Int(batchSamples), 1, Int(UInt32.max), "batch samples of ring work")
        let samples = sampleCount
        try FrameCheck.bytes(labels, are: samples, "labels frame of ring work")
        if samples == 0 { try FrameCheck.bytes(pixels, are: 0, "pixels frame of ring work") }
        header.write(generation)
        header.write(step)
        header.write(learningRate.bitPattern)
        header.write(batchSamples)
        shards.encode(into: &header)
        return BulkFrames(pixels, labels)
    }

    static func decode(
        _ header: inout FieldReader, frame: ZMQMessage, bulk: ArraySlice<ZMQMessage>, limits: DecodingLimits
    ) throws -> RingWork {
        guard let inputSize = limits.inputSize else { throw ProtocolError.shapesUnknown(kind: "ring work") }
        try FrameCheck.count(bulk, is: 2, for: .ringWork)
        let generation = try header.read(UInt64.self, "generation")
        let step = try header.read(UInt64.self, "step")
        let rate = Float(bitPattern: try header.read(UInt32.self, "learning rate"))
        let batchSamples = try header.read(UInt32.self, "batch samples")
        let maxBatch = try FrameCheck.product(limits.maxShards, limits.shardSize, "max shards × shard size")
        try FrameCheck.range(Int(batchSamples), 1, maxBatch, "batch samples of ring work")
        let (shards, samples) = try ShardList.decode(&header, frame: frame, limits: limits, minCount: 0, of: "ring work")
        let first = bulk.startIndex
        var work = RingWork(
            generation: generation, step: step, learningRate: rate, batchSamples: batchSamples,
            shards: [], pixels: bulk[first], labels: bulk[first + 1])
        work.shards = shards
        try FrameCheck.range(samples, 0, Int(batchSamples), "samples of ring work")
        let pixelBytes = try FrameCheck.product(samples, inputSize, "samples × input size")
        try FrameCheck.bytes(work.pixels, are: pixelBytes, "pixels frame of ring work (\(samples) samples × \(inputSize))")
        try FrameCheck.bytes(work.labels, are: samples, "labels frame of ring work (\(samples) samples)")
        return work
    }
}
