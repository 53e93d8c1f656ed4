/// Coordinator -> ring member: one step's micro-shards and what the update
/// needs. No weights travel: every member already holds them.
///
/// Frames: [0] header, [1] pixels (UInt8 × samples × inputSize),
/// [2] labels (UInt8 × samples); a member given no shards gets empty frames
/// and still takes its part in the ring.
///
/// Verified gradients: the first `ownCount` shards are the member's own, to
/// be summed and reduced; any after them are other members' shards, sent
/// only to be computed again and digested. `digested` names the shards
/// (own or not) whose gradient the member computes alone and reports a
/// digest of in its `ring done`.
public struct RingWork {
    public var generation: UInt64
    public var step: UInt64
    public var learningRate: Float
    /// Samples in the whole global batch: the divisor of the mean gradient.
    public var batchSamples: UInt32
    public var shards: ShardList
    /// The leading shards that are this member's own; the rest are only checked.
    public var ownCount: Int
    public var digested: ShardIDs
    public var pixels: ZMQMessage
    public var labels: ZMQMessage

    /// `ownCount` nil: every shard is the member's own.
    public init(
        generation: UInt64, step: UInt64, learningRate: Float, batchSamples: UInt32,
        shards: [Work.Shard], ownCount: Int? = nil, digested: [UInt32] = [], pixels: ZMQMessage, labels: ZMQMessage
    ) {
        self.generation = generation; self.step = step; self.learningRate = learningRate
        self.batchSamples = batchSamples; self.shards = ShardList(shards); self.pixels = pixels; self.labels = labels
        self.ownCount = ownCount ?? shards.count
        self.digested = ShardIDs(digested)
    }

    public var sampleCount: Int { shards.reduce(0) { $0 + Int($1.sampleCount) } }

    /// Whether the shard at `index` of `shards` is to be digested.
    public func isDigested(_ index: Int) -> Bool { digested.contains(shards[index].shardID) }

    /// Every digested id names a shard once, and every shard after the own
    /// ones is digested (a shard sent only to be checked and not digested is
    /// work for nothing).
    private func checkDigested() throws {
        try FrameCheck.range(ownCount, 0, shards.count, "own shard count of ring work")
        try FrameCheck.range(digested.count, 0, shards.count, "digested shard count of ring work")
        for (index, id) in digested.enumerated() {
            guard shards.contains(where: { $0.shardID == id }), !digested[..<index].contains(id) else {
                throw ProtocolError.outOfRange(what: "digested shard id of ring work", value: Int(id), min: 0, max: Int(UInt32.max))
            }
        }
        for index in ownCount..<shards.count where !isDigested(index) {
            throw ProtocolError.outOfRange(
                what: "shard \(shards[index].shardID) of ring work, neither own nor digested", value: index, min: 0, max: ownCount - 1)
        }
    }

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
        try checkDigested()
        // Before the shard list, which ends the header.
        header.write(UInt32(ownCount))
        header.write(UInt32(digested.count))
        for id in digested { header.write(id) }
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
        let ownCount = Int(try header.read(UInt32.self, "own shard count"))
        let digestedCount = Int(try header.read(UInt32.self, "digested shard count"))
        try FrameCheck.range(digestedCount, 0, limits.maxShards, "digested shard count of ring work")
        let digestedOffset = header.offset
        _ = try header.readBytes(digestedCount * 4, "digested shard ids")
        let (shards, samples) = try ShardList.decode(&header, frame: frame, limits: limits, minCount: 0, of: "ring work")
        let first = bulk.startIndex
        var work = RingWork(
            generation: generation, step: step, learningRate: rate, batchSamples: batchSamples,
            shards: [], pixels: bulk[first], labels: bulk[first + 1])
        work.shards = shards
        work.ownCount = ownCount
        // Read in place, like the shard list.
        work.digested = ShardIDs(frame: frame, offset: digestedOffset, count: digestedCount)
        try work.checkDigested()
        try FrameCheck.range(samples, 0, Int(batchSamples), "samples of ring work")
        let pixelBytes = try FrameCheck.product(samples, inputSize, "samples × input size")
        try FrameCheck.bytes(work.pixels, are: pixelBytes, "pixels frame of ring work (\(samples) samples × \(inputSize))")
        try FrameCheck.bytes(work.labels, are: samples, "labels frame of ring work (\(samples) samples)")
        return work
    }
}
