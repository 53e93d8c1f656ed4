/// How a ring of `size` members splits `parameterCount` parameters into
/// chunks, and which chunk each member sends and receives in each round.
///
/// Reduce-scatter: in round k (0..<size-1) member r sends chunk (r - k) and
/// receives chunk (r - k - 1) from its left neighbour, adding it onto its
/// own sum. Chunk c thus travels from member c round the ring and ends,
/// summed over every member, at member c - 1: member r owns chunk r + 1.
/// All-gather: member r first sends its owned chunk, then passes on what it
/// received, so in round k it sends chunk (r + 1 - k) and receives (r - k).
/// (All indices modulo `size`.)
public struct RingPartition: Equatable, Sendable {
    public let parameterCount: Int
    public let size: Int
    /// Chunk boundaries are multiples of this many values, so every chunk
    /// starts on a cache line and packs into whole blocks.
    public static let alignment = 256

    public init(parameterCount: Int, size: Int) {
        precondition(parameterCount >= 0 && size >= 1, "a ring needs at least one member")
        self.parameterCount = parameterCount
        self.size = size
    }

    public var rounds: Int { size - 1 }

    public func chunk(_ index: Int) -> Range<Int> {
        precondition((0..<size).contains(index), "chunk \(index) outside a ring of \(size)")
        return boundary(index)..<boundary(index + 1)
    }

    private func boundary(_ index: Int) -> Int {
        if index >= size { return parameterCount }
        let even = parameterCount * index / size
        return even / Self.alignment * Self.alignment
    }

    public func ownedChunk(rank: Int) -> Int { wrap(rank + 1) }

    public func owned(rank: Int) -> Range<Int> { chunk(ownedChunk(rank: rank)) }

    public func reduceScatterSend(rank: Int, round: Int) -> Int { wrap(rank - round) }
    public func reduceScatterReceive(rank: Int, round: Int) -> Int { wrap(rank - round - 1) }
    public func allGatherSend(rank: Int, round: Int) -> Int { wrap(rank + 1 - round) }
    public func allGatherReceive(rank: Int, round: Int) -> Int { wrap(rank - round) }

    private func wrap(_ index: Int) -> Int { ((index % size) + size) % size }
}
