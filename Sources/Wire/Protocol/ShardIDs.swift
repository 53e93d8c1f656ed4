/// The micro-shard ids a gradient answers for. Built from an array or from
/// the work it answers by a worker; read in place from the header frame by
/// the coordinator, so that neither side builds a list per step.
public struct ShardIDs: RandomAccessCollection, Equatable, ExpressibleByArrayLiteral {
    private enum Storage {
        case array([UInt32])
        case shards(ShardList)
        /// Little-endian UInt32s from `offset` on.
        case frame(ZMQMessage, offset: Int)
    }

    private let storage: Storage
    public let count: Int

    public init(_ ids: [UInt32]) {
        storage = .array(ids)
        count = ids.count
    }

    public init(arrayLiteral ids: UInt32...) { self.init(ids) }

    /// The ids of `shards`, read from them as needed.
    public init(of shards: ShardList) {
        storage = .shards(shards)
        count = shards.count
    }

    init(frame: ZMQMessage, offset: Int, count: Int) {
        storage = .frame(frame, offset: offset)
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> UInt32 {
        precondition(index >= 0 && index < count, "shard id \(index) of \(count)")
        switch storage {
        case .array(let ids): return ids[index]
        case .shards(let shards): return shards[index].shardID
        case .frame(let frame, let offset):
            return frame.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset + index * 4, as: UInt32.self)) }
        }
    }

    public static func == (a: ShardIDs, b: ShardIDs) -> Bool { a.elementsEqual(b) }
}
