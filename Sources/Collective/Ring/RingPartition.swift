/// The most chunk messages a ring's indices may name (RingChunk's chunk field).
public enum RingSetupLimits {
    public static let maxChunkMessages = 4096
}

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
///
/// A ring may cover part of the parameters (`range`): in the two-level
/// all-reduce each host-to-host ring reduces one host-local chunk.
/// Indices stay those of the whole parameter vector.
public struct RingPartition: Equatable, Sendable {
    /// The parameters the ring reduces; its chunks tile them.
    public let range: Range<Int>
    public let size: Int
    /// Chunk boundaries are multiples of this many values (counted from the
    /// range's start, itself a chunk boundary of a wider ring or 0), so every
    /// chunk starts on a cache line and packs into whole blocks.
    public static let alignment = 256

    public init(parameterCount: Int, size: Int) {
        self.init(range: 0..<parameterCount, size: size)
    }

    public init(range: Range<Int>, size: Int) {
        precondition(range.lowerBound >= 0 && size >= 1, "a ring needs at least one member")
        self.range = range
        self.size = size
    }

    /// How many parameters the ring reduces.
    public var parameterCount: Int { range.count }

    public var rounds: Int { size - 1 }

    public func chunk(_ index: Int) -> Range<Int> {
        precondition((0..<size).contains(index), "chunk \(index) outside a ring of \(size)")
        return boundary(index)..<boundary(index + 1)
    }

    private func boundary(_ index: Int) -> Int {
        if index >= size { return range.upperBound }
        let even = parameterCount * index / size
        return range.lowerBound + even / Self.alignment * Self.alignment
    }

    /// Each chunk travels as this many pieces, so that a member adds (or
    /// updates, or copies) one piece while the next is still on the wire.
    /// A function of the shape alone: both ends of a link agree on it.
    public var pieces: Int {
        let perChunk = parameterCount / size
        return max(1, min(8, perChunk / (1 << 17), RingSetupLimits.maxChunkMessages / size))
    }

    /// Piece `piece` of chunk `chunk`, aligned like the chunks.
    public func piece(_ piece: Int, of chunk: Int) -> Range<Int> {
        let whole = self.chunk(chunk), count = pieces
        func boundary(_ index: Int) -> Int {
            index >= count ? whole.upperBound
                : whole.lowerBound + (whole.count * index / count) / Self.alignment * Self.alignment
        }
        return boundary(piece)..<boundary(piece + 1)
    }

    /// The index a piece travels under in a ring chunk message.
    public func messageIndex(chunk: Int, piece: Int) -> Int { chunk * pieces + piece }

    public func ownedChunk(rank: Int) -> Int { wrap(rank + 1) }

    public func owned(rank: Int) -> Range<Int> { chunk(ownedChunk(rank: rank)) }

    public func reduceScatterSend(rank: Int, round: Int) -> Int { wrap(rank - round) }
    public func reduceScatterReceive(rank: Int, round: Int) -> Int { wrap(rank - round - 1) }
    public func allGatherSend(rank: Int, round: Int) -> Int { wrap(rank + 1 - round) }
    public func allGatherReceive(rank: Int, round: Int) -> Int { wrap(rank - round) }

    private func wrap(_ index: Int) -> Int { ((index % size) + size) % size }
}
