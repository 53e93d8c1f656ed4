/// How a step's micro-shards are cut among its members: contiguous blocks,
/// as even as possible, in member order. The central and the ring collective
/// both cut this way, so a worker's first work is the same block in either.
public enum ShardBlocks {
    /// The block of member `index` of `members`, over shards 0..<`shardCount`.
    @inlinable public static func block(_ index: Int, of members: Int, shardCount: Int) -> Range<Int> {
        (index * shardCount / members)..<((index + 1) * shardCount / members)
    }
}
