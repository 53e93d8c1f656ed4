/// Worker -> coordinator, after a ring welcome: where this worker's left
/// neighbour should send it ring traffic.
public struct RingAddress: Equatable {
    public var endpoint: String
    /// The worker's CURVE public key, which its left neighbour pins; nil in plaintext.
    public var publicKey: CurveKey?
    /// Which host the worker runs on, and the start of the path of every
    /// shared-memory inbox it makes; a neighbour on the same host writes
    /// there instead of to `endpoint`. Both empty: sockets only.
    public var host: String
    public var sharedInboxPrefix: String

    public init(endpoint: String, publicKey: CurveKey? = nil, host: String = "", sharedInboxPrefix: String = "") {
        self.endpoint = endpoint
        self.publicKey = publicKey
        self.host = host
        self.sharedInboxPrefix = sharedInboxPrefix
    }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try header.write(endpoint, field: "ring endpoint")
        try header.write(publicKey, field: "ring public key")
        try header.write(host, field: "host identity")
        try header.write(sharedInboxPrefix, field: "shared inbox prefix")
        return BulkFrames()
    }

    static func decode(_ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>) throws -> RingAddress {
        try FrameCheck.count(bulk, is: 0, for: .ringAddress)
        let endpoint = try header.readString("ring endpoint")
        let key = try header.readKey("ring public key")
        let host = try header.readString("host identity")
        let prefix = try header.readString("shared inbox prefix")
        try header.finish()
        return RingAddress(endpoint: endpoint, publicKey: key, host: host, sharedInboxPrefix: prefix)
    }
}

/// Coordinator -> worker: a ring is (re)formed. Carries the worker's place
/// in it, its right neighbour, the optimiser's settings, the whole weights
/// and the worker's own slice of the optimiser's state. A setup of a newer
/// generation also abandons whatever step the worker was in.
///
/// Frames: [0] header, [1] weights (Float32 × parameterCount),
/// [2] optimiser state of the owned slice (Float32 × statePlanes × ownedCount:
/// SGD's velocity, or Adam's first moments then its second).
public struct RingSetup {
    public var generation: UInt64
    /// Steps the weights have taken (for logs and checks).
    public var step: UInt64
    public var rank: UInt32
    public var size: UInt32
    public var rightNeighbour: String
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    /// 0 SGD, 1 Adam, 2 AdamW (MLP's OptimiserKind, in its order).
    public var optimiserKind: UInt8
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Gradients are clamped to ±clipValue before the update; 0: not clamped.
    public var clipValue: Float
    /// The averaged gradient is scaled down to this L2 norm when longer; 0: not scaled.
    public var clipNorm: Float
    /// The parameters this rank updates, as the coordinator computed them.
    public var ownedStart: UInt64
    public var ownedCount: UInt64
    public var weights: ZMQMessage
    public var velocity: ZMQMessage
    /// CURVE (nil in plaintext): the key the right neighbour's inbox proves,
    /// and the only key this member's inbox lets in.
    public var rightNeighbourKey: CurveKey?
    public var leftNeighbourKey: CurveKey?
    /// Secrets of this ring's two links into and out of this member: every
    /// chunk carries its link's, so a chunk from anyone but the left
    /// neighbour is told apart and dropped, with or without CURVE.
    public var leftLinkToken: UInt64
    public var rightLinkToken: UInt64
    /// Shared memory with a neighbour on the same host (empty: sockets):
    /// the segment this member makes for its left neighbour to write into,
    /// and the one its right neighbour makes for it.
    public var inboxSegment: String = ""
    public var outboxSegment: String = ""
    /// Two levels (hierarchical): members on each of size / hostSize hosts
    /// (0: one flat ring). The segments then link the host's own ring,
    /// under the shared tokens; the neighbours, keys and link tokens above
    /// are those of the ring between hosts.
    public var hostSize: UInt32 = 0
    public var sharedLeftToken: UInt64 = 0
    public var sharedRightToken: UInt64 = 0

    public init(
        generation: UInt64, step: UInt64, rank: UInt32, size: UInt32, rightNeighbour: String,
        momentum: Float, nesterov: Bool, weightDecay: Float, ownedStart: UInt64, ownedCount: UInt64,
        weights: ZMQMessage, velocity: ZMQMessage, rightNeighbourKey: CurveKey? = nil, leftNeighbourKey: CurveKey? = nil,
        leftLinkToken: UInt64 = 0, rightLinkToken: UInt64 = 0,
        optimiserKind: UInt8 = 0, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, clipValue: Float = 0,
        clipNorm: Float = 0
    ) {
        self.clipValue = clipValue
        self.clipNorm = clipNorm
        self.optimiserKind = optimiserKind; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.rightNeighbourKey = rightNeighbourKey; self.leftNeighbourKey = leftNeighbourKey
        self.leftLinkToken = leftLinkToken; self.rightLinkToken = rightLinkToken
        self.generation = generation; self.step = step; self.rank = rank; self.size = size
        self.rightNeighbour = rightNeighbour; self.momentum = momentum; self.nesterov = nesterov
        self.weightDecay = weightDecay; self.ownedStart = ownedStart; self.ownedCount = ownedCount
        self.weights = weights; self.velocity = velocity
    }

    /// The most members a ring may have; far more than any step has micro-shards to give.
    public static let maxSize = 4096
    public static let optimiserKinds = 0...2

    /// State values per owned parameter: SGD keeps one, Adam two.
    public var statePlanes: Int { optimiserKind == 0 ? 1 : 2 }

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try FrameCheck.range(Int(size), 1, Self.maxSize, "ring size")
        try FrameCheck.range(Int(rank), 0, Int(size) - 1, "ring rank")
        try FrameCheck.range(Int(optimiserKind), Self.optimiserKinds.lowerBound, Self.optimiserKinds.upperBound, "optimiser")
        try FrameCheck.bytes(velocity, are: statePlanes * Int(ownedCount) * 4, "optimiser state frame of ring setup")
        header.write(generation)
        header.write(step)
        header.write(rank)
        header.write(size)
        try header.write(rightNeighbour, field: "right neighbour")
        header.write(momentum.bitPattern)
        header.write(UInt8(nesterov ? 1 : 0))
        header.write(weightDecay.bitPattern)
        header.write(ownedStart)
        header.write(ownedCount)
        try header.write(rightNeighbourKey, field: "right neighbour key")
        try header.write(leftNeighbourKey, field: "left neighbour key")
        header.write(leftLinkToken)
        header.write(rightLinkToken)
        header.write(optimiserKind)
        header.write(beta1.bitPattern)
        header.write(beta2.bitPattern)
        header.write(epsilon.bitPattern)
        header.write(clipValue.bitPattern)
        header.write(clipNorm.bitPattern)
        try header.write(inboxSegment, field: "inbox segment")
        try header.write(outboxSegment, field: "outbox segment")
        header.write(hostSize)
        header.write(sharedLeftToken)
        header.write(sharedRightToken)
        return BulkFrames(weights, velocity)
    }

    static func decode(
        _ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>, limits: DecodingLimits
    ) throws -> RingSetup {
        guard let parameterCount = limits.parameterCount else { throw ProtocolError.shapesUnknown(kind: "ring setup") }
        try FrameCheck.count(bulk, is: 2, for: .ringSetup)
        let generation = try header.read(UInt64.self, "generation")
        let step = try header.read(UInt64.self, "step")
        let rank = try header.read(UInt32.self, "rank")
        let size = try header.read(UInt32.self, "size")
        try FrameCheck.range(Int(size), 1, maxSize, "ring size")
        try FrameCheck.range(Int(rank), 0, Int(size) - 1, "ring rank")
        let right = try header.readString("right neighbour")
        let momentum = Float(bitPattern: try header.read(UInt32.self, "momentum"))
        let nesterovByte = try header.read(UInt8.self, "nesterov flag")
        try FrameCheck.range(Int(nesterovByte), 0, 1, "nesterov flag")
        let weightDecay = Float(bitPattern: try header.read(UInt32.self, "weight decay"))
        let start = try header.read(UInt64.self, "owned start")
        let count = try header.read(UInt64.self, "owned count")
        let rightKey = try header.readKey("right neighbour key")
        let leftKey = try header.readKey("left neighbour key")
        let leftToken = try header.read(UInt64.self, "left link token")
        let rightToken = try header.read(UInt64.self, "right link token")
        let kind = try header.read(UInt8.self, "optimiser")
        try FrameCheck.range(Int(kind), optimiserKinds.lowerBound, optimiserKinds.upperBound, "optimiser")
        let beta1 = Float(bitPattern: try header.read(UInt32.self, "beta1"))
        let beta2 = Float(bitPattern: try header.read(UInt32.self, "beta2"))
        let epsilon = Float(bitPattern: try header.read(UInt32.self, "epsilon"))
        let clipValue = Float(bitPattern: try header.read(UInt32.self, "clip value"))
        let clipNorm = Float(bitPattern: try header.read(UInt32.self, "clip norm"))
        let inboxSegment = try header.readString("inbox segment")
        let outboxSegment = try header.readString("outbox segment")
        let hostSize = try header.read(UInt32.self, "host size")
        let sharedLeftToken = try header.read(UInt64.self, "shared left token")
        let sharedRightToken = try header.read(UInt64.self, "shared right token")
        try header.finish()
        if hostSize != 0 {
            // Two levels: at least two hosts of at least two members each, all alike, each link in shared memory.
            guard hostSize >= 2, size % hostSize == 0, size / hostSize >= 2, !inboxSegment.isEmpty, !outboxSegment.isEmpty else {
                throw ProtocolError.outOfRange(
                    what: "host size of a two-level ring of \(size) (a divisor leaving two hosts or more, each linked in shared memory)",
                    value: Int(hostSize), min: 2, max: Int(size) / 2)
            }
        }
        try FrameCheck.range(Int(clamping: start), 0, parameterCount, "owned start")
        try FrameCheck.range(Int(clamping: count), 0, parameterCount - Int(start), "owned count")
        let first = bulk.startIndex
        try FrameCheck.bytes(bulk[first], are: parameterCount * 4, "weights frame of ring setup (\(parameterCount) floats)")
        let planes = kind == 0 ? 1 : 2
        try FrameCheck.bytes(bulk[first + 1], are: planes * Int(count) * 4,
                             "optimiser state frame of ring setup (\(planes) × \(count) floats)")
        var setup = RingSetup(
            generation: generation, step: step, rank: rank, size: size, rightNeighbour: right,
            momentum: momentum, nesterov: nesterovByte == 1, weightDecay: weightDecay,
            ownedStart: start, ownedCount: count, weights: bulk[first], velocity: bulk[first + 1],
            rightNeighbourKey: rightKey, leftNeighbourKey: leftKey, leftLinkToken: leftToken, rightLinkToken: rightToken,
            optimiserKind: kind, beta1: beta1, beta2: beta2, epsilon: epsilon, clipValue: clipValue,
            clipNorm: clipNorm)
        setup.inboxSegment = inboxSegment
        setup.outboxSegment = outboxSegment
        setup.hostSize = hostSize
        setup.sharedLeftToken = sharedLeftToken
        setup.sharedRightToken = sharedRightToken
        return setup
    }
}
