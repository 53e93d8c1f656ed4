/// A ring member's digest of one micro-shard's fixed-point gradient (and its
/// loss and counts), reported in its `ring done` so that the coordinator,
/// which never sees ring gradients, can compare two members' computations
/// of a sampled shard (verified gradients). 32 bytes.
public struct ShardDigest: Equatable {
    public var shardID: UInt32
    public var hash: SIMD4<UInt64>

    public init(shardID: UInt32, hash: SIMD4<UInt64>) {
        self.shardID = shardID
        self.hash = hash
    }

    /// Bytes on the wire: the id, then the four words.
    static let encodedSize = 4 + 4 * 8
}
