/// A work message's micro-shards. Built from an array by a sender; read in
/// place from the header frame by a receiver, so that decoding a step's
/// work allocates no list (the frame stays alive as long as the list).
public struct ShardList: RandomAccessCollection, Equatable, ExpressibleByArrayLiteral {
    private enum Storage {
        case array([Work.Shard])
        /// Pairs of little-endian UInt32 (id, sample count) from `offset` on.
        case frame(ZMQMessage, offset: Int)
    }

    private let storage: Storage
    public let count: Int

    public init(_ shards: [Work.Shard]) {
        storage = .array(shards)
        count = shards.count
    }

    public init(arrayLiteral shards: Work.Shard...) { self.init(shards) }

    /// `count` pairs in `frame` from `offset`, which the decoder has checked are there.
    init(frame: ZMQMessage, offset: Int, count: Int) {
        storage = .frame(frame, offset: offset)
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> Work.Shard {
        precondition(index >= 0 && index < count, "shard \(index) of \(count)")
        switch storage {
        case .array(let shards):
            return shards[index]
        case .frame(let frame, let offset):
            return frame.withUnsafeBytes { bytes in
                let at = offset + index * 8
                return Work.Shard(
                    shardID: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)),
                    sampleCount: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)))
            }
        }
    }

    public static func == (a: ShardList, b: ShardList) -> Bool { a.elementsEqual(b) }

    /// The list's wire form, the same in every message that carries one: a
    /// UInt32 count, then (id, sample count) pairs of UInt32.
    func encode(into header: inout FieldWriter) {
        header.write(UInt32(count))
        for shard in self {
            header.write(shard.shardID)
            header.write(shard.sampleCount)
        }
    }

    /// Reads a list written by `encode`, checking every sample count against
    /// the shard size; returns it (read in place from `frame`: decoding builds
    /// no list) and its total samples.
    static func decode(
        _ header: inout FieldReader, frame: ZMQMessage, limits: DecodingLimits, minCount: Int, of kind: String
    ) throws -> (ShardList, samples: Int) {
        let count = Int(try header.read(UInt32.self, "shard count"))
        try FrameCheck.range(count, minCount, limits.maxShards, "shard count of \(kind)")
        try header.expectExactly(count, of: 8, "shards")
        let offset = header.offset
        var samples = 0
        for index in 0..<count {
            let shardID = try header.read(UInt32.self, "shard \(index) id")
            let sampleCount = try header.read(UInt32.self, "shard \(index) sample count")
            try FrameCheck.range(Int(sampleCount), 1, limits.shardSize, "sample count of shard \(shardID)")
            samples += Int(sampleCount)
        }
        return (ShardList(frame: frame, offset: offset, count: count), samples)
    }
}
