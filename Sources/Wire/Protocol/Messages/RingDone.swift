/// Ring member -> coordinator: how a step ended for this member, with its
/// own shards' loss and counts (the coordinator adds them up for metrics),
/// the averaged gradient's norm before clipping (--clip-norm: every member
/// computes the same), and a digest of each shard its ring work named to
/// digest (verified gradients: 36 bytes each, none in a step without a
/// sampled shard).
public struct RingDone: Equatable {
    public enum Status: UInt8 {
        /// Reduced, updated its slice, gathered: its weights are the step's result.
        case updated = 0
        /// Some member's gradient was not finite: every member skipped the update.
        case nonFinite = 1
        /// Ring traffic stopped arriving; the member abandoned the step.
        case stalled = 2
    }

    public var generation: UInt64
    public var step: UInt64
    public var status: Status
    public var lossSumFixedPoint: Int64
    public var correct: UInt32
    public var sampleCount: UInt32
    public var computeNanoseconds: UInt64
    /// Only in an updated step with clipping by norm; finite and not negative.
    public var gradientNorm: Double?
    public var digests: [ShardDigest]

    public init(
        generation: UInt64, step: UInt64, status: Status, lossSumFixedPoint: Int64, correct: UInt32,
        sampleCount: UInt32, computeNanoseconds: UInt64, gradientNorm: Double? = nil, digests: [ShardDigest] = []
    ) {
        self.gradientNorm = gradientNorm
        self.generation = generation; self.step = step; self.status = status
        self.lossSumFixedPoint = lossSumFixedPoint; self.correct = correct; self.sampleCount = sampleCount
        self.computeNanoseconds = computeNanoseconds; self.digests = digests
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try FrameCheck.range(Int(correct), 0, Int(sampleCount), "correct count of ring done")
        header.write(generation)
        header.write(step)
        header.write(status.rawValue)
        header.write(lossSumFixedPoint)
        header.write(correct)
        header.write(sampleCount)
        header.write(computeNanoseconds)
        if let norm = gradientNorm {
            try Self.check(norm: norm)
        }
        // A flag, then the norm's bits (0 without one): one encoding per message.
        header.write(UInt8(gradientNorm == nil ? 0 : 1))
        header.write(gradientNorm?.bitPattern ?? 0)
        try FrameCheck.range(digests.count, 0, WireLimits.maxShardsPerMessage, "digest count of ring done")
        header.write(UInt32(digests.count))
        for digest in digests {
            header.write(digest.shardID)
            for lane in 0..<4 { header.write(digest.hash[lane]) }
        }
        return BulkFrames()
    }

    static func decode(_ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>, limits: DecodingLimits) throws -> RingDone {
        try FrameCheck.count(bulk, is: 0, for: .ringDone)
        let generation = try header.read(UInt64.self, "generation")
        let step = try header.read(UInt64.self, "step")
        let statusByte = try header.read(UInt8.self, "status")
        guard let status = Status(rawValue: statusByte) else {
            throw ProtocolError.outOfRange(what: "ring done status", value: Int(statusByte), min: 0, max: 2)
        }
        let loss = try header.read(Int64.self, "loss sum")
        let correct = try header.read(UInt32.self, "correct count")
        let samples = try header.read(UInt32.self, "sample count")
        try FrameCheck.range(Int(correct), 0, Int(samples), "correct count of ring done")
        let nanoseconds = try header.read(UInt64.self, "compute time")
        let normFlag = try header.read(UInt8.self, "gradient norm flag")
        try FrameCheck.range(Int(normFlag), 0, 1, "gradient norm flag")
        let normBits = try header.read(UInt64.self, "gradient norm")
        var gradientNorm: Double?
        if normFlag == 1 {
            gradientNorm = Double(bitPattern: normBits)
            try check(norm: gradientNorm!)
        } else if normBits != 0 {
            throw ProtocolError.outOfRange(what: "gradient norm bits without a norm", value: Int(truncatingIfNeeded: normBits), min: 0, max: 0)
        }
        let digestCount = Int(try header.read(UInt32.self, "digest count"))
        try FrameCheck.range(digestCount, 0, limits.maxShards, "digest count of ring done")
        try header.expectExactly(digestCount, of: ShardDigest.encodedSize, "digests")
        var digests: [ShardDigest] = []
        if digestCount > 0 { digests.reserveCapacity(digestCount) }
        for index in 0..<digestCount {
            let id = try header.read(UInt32.self, "digest \(index) shard id")
            var hash = SIMD4<UInt64>()
            for lane in 0..<4 { hash[lane] = try header.read(UInt64.self, "digest \(index) word \(lane)") }
            digests.append(ShardDigest(shardID: id, hash: hash))
        }
        return RingDone(
            generation: generation, step: step, status: status, lossSumFixedPoint: loss, correct: correct,
            sampleCount: samples, computeNanoseconds: nanoseconds, gradientNorm: gradientNorm, digests: digests)
    }

    private static func check(norm: Double) throws {
        guard norm.isFinite, norm >= 0 else { throw ProtocolError.notANorm(what: "gradient norm of ring done", value: norm) }
    }
}
