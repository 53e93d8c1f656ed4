/// How a run reduces gradients, which decides what a worker does after its welcome.
public enum CollectiveKind: UInt8, CaseIterable, Sendable {
    /// Workers send gradients to the coordinator, which updates and sends weights back.
    case central = 0
    /// Workers reduce among themselves in a ring and each updates a slice.
    case ring = 1
}

/// Coordinator -> worker: the worker's id and everything it needs to build
/// the model and to decode work (shard size, layer sizes, collective), and
/// the run's timing: how often to speak when idle and how long a silent
/// coordinator counts as alive. A worker takes both from here.
public struct Welcome: Equatable {
    public var workerID: UInt32
    public var shardSize: UInt32
    public var heartbeatMilliseconds: UInt32
    public var peerTimeoutMilliseconds: UInt32
    public var activation: String
    public var loss: String
    /// Widths from input to output; 2...64 entries, each 1...(1 << 20).
    public var layerSizes: [UInt32]
    public var collective: CollectiveKind
    /// What changes a gradient (MLP's GradientOptions): the seed of the
    /// dropout masks and shifts, a dropout rate per hidden layer (at most
    /// one per hidden layer, each in [0, 1)), label smoothing in [0, 1), and
    /// the largest shift in pixels.
    public var noiseSeed: UInt64
    public var dropout: [Float]
    public var labelSmoothing: Float
    public var shift: UInt8

    public init(
        workerID: UInt32, shardSize: UInt32, heartbeatMilliseconds: UInt32, peerTimeoutMilliseconds: UInt32,
        activation: String, loss: String, layerSizes: [UInt32], collective: CollectiveKind = .central,
        noiseSeed: UInt64 = 0, dropout: [Float] = [], labelSmoothing: Float = 0, shift: UInt8 = 0
    ) {
        self.noiseSeed = noiseSeed
        self.dropout = dropout
        self.labelSmoothing = labelSmoothing
        self.shift = shift
        self.collective = collective
        self.workerID = workerID
        self.shardSize = shardSize
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.peerTimeoutMilliseconds = peerTimeoutMilliseconds
        self.activation = activation
        self.loss = loss
        self.layerSizes = layerSizes
    }

    // A layer list names at least an input and an output width.
    static let layerCounts = 2...WireLimits.maxLayers

    func encode(into header: inout FieldWriter) throws -> BulkFrames {
        try Self.check(shardSize: shardSize, heartbeat: heartbeatMilliseconds, peerTimeout: peerTimeoutMilliseconds,
                       layerCount: layerSizes.count)
        header.write(workerID)
        header.write(shardSize)
        header.write(heartbeatMilliseconds)
        header.write(peerTimeoutMilliseconds)
        header.write(collective.rawValue)
        try header.write(activation, field: "activation")
        try header.write(loss, field: "loss")
        try Self.check(dropout: dropout, labelSmoothing: labelSmoothing, layerCount: layerSizes.count)
        header.write(noiseSeed)
        header.write(UInt16(dropout.count))
        for rate in dropout { header.write(rate.bitPattern) }
        header.write(labelSmoothing.bitPattern)
        header.write(shift)
        // The layer sizes stay last: the decoder expects exactly their bytes after the count.
        header.write(UInt16(layerSizes.count))
        for (index, size) in layerSizes.enumerated() {
            try FrameCheck.range(Int(size), WireLimits.layerSizes.lowerBound, WireLimits.layerSizes.upperBound, "layer \(index) size")
            header.write(size)
        }
        return BulkFrames()
    }

    static func decode(_ header: inout FieldReader, bulk: ArraySlice<ZMQMessage>) throws -> Welcome {
        try FrameCheck.count(bulk, is: 0, for: .welcome)
        let workerID = try header.read(UInt32.self, "worker id")
        let shardSize = try header.read(UInt32.self, "shard size")
        let heartbeat = try header.read(UInt32.self, "heartbeat interval")
        let peerTimeout = try header.read(UInt32.self, "peer timeout")
        let collectiveByte = try header.read(UInt8.self, "collective")
        guard let collective = CollectiveKind(rawValue: collectiveByte) else {
            throw ProtocolError.outOfRange(what: "collective", value: Int(collectiveByte), min: 0, max: 1)
        }
        let activation = try header.readString("activation")
        let loss = try header.readString("loss")
        let noiseSeed = try header.read(UInt64.self, "noise seed")
        let dropoutCount = Int(try header.read(UInt16.self, "dropout count"))
        try FrameCheck.range(dropoutCount, 0, WireLimits.maxLayers, "dropout count")
        var dropout: [Float] = []
        for index in 0..<dropoutCount { dropout.append(Float(bitPattern: try header.read(UInt32.self, "dropout \(index)"))) }
        let labelSmoothing = Float(bitPattern: try header.read(UInt32.self, "label smoothing"))
        let shift = try header.read(UInt8.self, "shift")
        let layerCount = Int(try header.read(UInt16.self, "layer count"))
        try check(shardSize: shardSize, heartbeat: heartbeat, peerTimeout: peerTimeout, layerCount: layerCount)
        try header.expectExactly(layerCount, of: 4, "layer sizes")
        var layerSizes: [UInt32] = []
        layerSizes.reserveCapacity(layerCount)
        for index in 0..<layerCount {
            let size = try header.read(UInt32.self, "layer \(index) size")
            try FrameCheck.range(Int(size), WireLimits.layerSizes.lowerBound, WireLimits.layerSizes.upperBound, "layer \(index) size")
            layerSizes.append(size)
        }
        try check(dropout: dropout, labelSmoothing: labelSmoothing, layerCount: layerCount)
        return Welcome(
            workerID: workerID, shardSize: shardSize, heartbeatMilliseconds: heartbeat, peerTimeoutMilliseconds: peerTimeout,
            activation: activation, loss: loss, layerSizes: layerSizes, collective: collective,
            noiseSeed: noiseSeed, dropout: dropout, labelSmoothing: labelSmoothing, shift: shift)
    }

    /// Rates outside [0, 1) would divide by zero or flip signs on the worker.
    private static func check(dropout: [Float], labelSmoothing: Float, layerCount: Int) throws {
        try FrameCheck.range(dropout.count, 0, layerCount - 2, "dropout count")
        for (index, rate) in dropout.enumerated() where !(rate >= 0 && rate < 1) {
            throw ProtocolError.notARate(what: "dropout \(index)", value: rate)
        }
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw ProtocolError.notARate(what: "label smoothing", value: labelSmoothing)
        }
    }

    private static func check(shardSize: UInt32, heartbeat: UInt32, peerTimeout: UInt32, layerCount: Int) throws {
        try FrameCheck.range(Int(shardSize), 1, Int(UInt32.max), "shard size")
        try FrameCheck.range(Int(heartbeat), 1, Int(UInt32.max), "heartbeat interval (ms)")
        // Silence shorter than one heartbeat would declare every peer dead.
        try FrameCheck.range(Int(peerTimeout), Int(heartbeat) + 1, Int(UInt32.max), "peer timeout (ms)")
        try FrameCheck.range(layerCount, layerCounts.lowerBound, layerCounts.upperBound, "layer count")
    }
}
