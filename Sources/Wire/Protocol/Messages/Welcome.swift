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

    public init(
        workerID: UInt32, shardSize: UInt32, heartbeatMilliseconds: UInt32, peerTimeoutMilliseconds: UInt32,
        activation: String, loss: String, layerSizes: [UInt32], collective: CollectiveKind = .central
    ) {
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
        return Welcome(
            workerID: workerID, shardSize: shardSize, heartbeatMilliseconds: heartbeat, peerTimeoutMilliseconds: peerTimeout,
            activation: activation, loss: loss, layerSizes: layerSizes, collective: collective)
    }

    private static func check(shardSize: UInt32, heartbeat: UInt32, peerTimeout: UInt32, layerCount: Int) throws {
        try FrameCheck.range(Int(shardSize), 1, Int(UInt32.max), "shard size")
        try FrameCheck.range(Int(heartbeat), 1, Int(UInt32.max), "heartbeat interval (ms)")
        // Silence shorter than one heartbeat would declare every peer dead.
        try FrameCheck.range(Int(peerTimeout), Int(heartbeat) + 1, Int(UInt32.max), "peer timeout (ms)")
        try FrameCheck.range(layerCount, layerCounts.lowerBound, layerCounts.upperBound, "layer count")
    }
}
