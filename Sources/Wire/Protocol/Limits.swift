/// The version this build speaks. Peers of another version are refused.
/// Version 5: ring addresses and ring setups carry CURVE public keys.
/// Version 6: ring work names the shards to digest and ring done carries the
/// digests (verified gradients); ring setups and chunks carry link tokens;
/// ring setups carry the optimiser (SGD, Adam, AdamW) and the welcome what
/// changes a gradient (dropout, label smoothing, augmentation).
/// Version 7: ring setups carry --clip-norm, ring chunks have a third phase
/// (one small value per member between reduce-scatter and all-gather: the
/// squared gradient norm's parts), ring done carries the gradient norm.
/// Version 8: ring addresses carry the host and a shared-memory inbox prefix,
/// ring setups the shared-memory segments of neighbours on the same host;
/// packed Int64 blocks take any width from 0 to 8 bytes.
/// Version 9: packed Int64s are zigzagged in blocks of 16 at any width from
/// 0 to 64 bits; all-gather chunks over sockets carry packed weight steps.
/// Version 10: a ring setup may describe a two-level (hierarchical) ring.
public let wireProtocolVersion: UInt16 = 10

/// Bounds fixed by the protocol itself, the same for every peer.
public enum WireLimits {
    public static let maxStringBytes = 1024
    public static let maxLayers = 64
    public static let layerSizes = 1...(1 << 20)
    /// The most micro-shards one work, ring work or gradient message may
    /// name. Collective's fixed-point sums hold at least this many shard
    /// gradients without overflow (checked by a test there).
    public static let maxShardsPerMessage = 2048
}

/// What a decoder accepts: the shapes this peer knows, and the caps that keep
/// a hostile or broken peer from making it allocate or read without bound.
public struct DecodingLimits: Equatable {
    /// Floats in the weights, Int64s in a gradient; nil before a welcome.
    public var parameterCount: Int?
    /// Pixels per sample; nil before a welcome.
    public var inputSize: Int?
    /// The most samples one micro-shard may hold.
    public var shardSize: Int
    /// The most micro-shards one work or gradient message may name.
    public var maxShards: Int
    public var maxParameterCount: Int

    public init(
        parameterCount: Int? = nil, inputSize: Int? = nil, shardSize: Int, maxShards: Int,
        maxParameterCount: Int = 1 << 26
    ) {
        self.parameterCount = parameterCount
        self.inputSize = inputSize
        self.shardSize = shardSize
        self.maxShards = maxShards
        self.maxParameterCount = maxParameterCount
    }

    /// A peer that has not been welcomed: only hello, welcome, refuse, heartbeat and shutdown decode.
    public static let beforeWelcome = DecodingLimits(shardSize: 0, maxShards: 0)

    /// What the peers of one run accept: its network's shapes and shard size.
    public static func run(parameterCount: Int, inputSize: Int, shardSize: Int) -> DecodingLimits {
        DecodingLimits(parameterCount: parameterCount, inputSize: inputSize, shardSize: shardSize,
                       maxShards: WireLimits.maxShardsPerMessage)
    }

    /// What a welcomed worker accepts: the run's limits, from its welcome.
    public init(welcome: Welcome) throws {
        let sizes = welcome.layerSizes.map(Int.init)
        var parameters = 0
        for (inputs, outputs) in zip(sizes, sizes.dropFirst()) {
            // (inputs + 1) × outputs: each layer's weight and bias. Layer sizes are capped, so no overflow.
            parameters += (inputs + 1) * outputs
        }
        let most = DecodingLimits.beforeWelcome.maxParameterCount
        guard let inputSize = sizes.first, parameters <= most else {
            throw ProtocolError.outOfRange(what: "parameter count of the welcomed network", value: parameters, min: 1, max: most)
        }
        self = .run(parameterCount: parameters, inputSize: inputSize, shardSize: Int(welcome.shardSize))
    }

    /// The largest frame of a message without pixels, for sockets that never
    /// receive work: the coordinator's (hello, heartbeat, gradient, ring
    /// address, ring done, state slice) and a ring member's inbox (ring
    /// chunks). They need not take the work's pixel frames (49 MiB at the defaults).
    public var largestFrameWithoutPixels: Int { largestFrame(withPixels: false) }

    /// The largest frame a valid message can have under these limits, for `ZMQSocket.setMaxMessageSize`.
    public var largestFrameBytes: Int { largestFrame(withPixels: true) }

    private func largestFrame(withPixels: Bool) -> Int {
        // Saturating, so absurd limits give "no limit" rather than a trap.
        func times(_ a: Int, _ b: Int) -> Int {
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? Int.max : product
        }
        // The longest header per shard: a ring done's digest (36 bytes).
        let header = 4096 + min(times(ShardDigest.encodedSize, maxShards), Int.max - 4096)
        guard let parameterCount, let inputSize else { return header }
        // A packed Int64 frame has a width byte per block, padded to 8, on top of 8 bytes a value at most.
        let blocks = parameterCount / PackedInt64s.blockLength + (parameterCount % PackedInt64s.blockLength == 0 ? 0 : 1)
        let widths = PackedInt64s.roundUp8(blocks)
        let int64s = min(times(parameterCount, 8), Int.max - widths) + widths
        return max(header, int64s, withPixels ? times(times(maxShards, shardSize), inputSize) : 0)
    }
}
