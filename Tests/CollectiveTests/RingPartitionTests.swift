import Collective
import XCTest

final class RingPartitionTests: XCTestCase {
    func testChunksTileTheParametersInAlignedPieces() {
        for (count, size) in [(535_818, 2), (535_818, 3), (535_818, 8), (100, 4), (1, 1), (10_000, 7)] {
            let partition = RingPartition(parameterCount: count, size: size)
            var next = 0
            for index in 0..<size {
                let chunk = partition.chunk(index)
                XCTAssertEqual(chunk.lowerBound, next, "chunk \(index) of \(size) over \(count)")
                XCTAssertEqual(chunk.lowerBound % RingPartition.alignment, 0)
                next = chunk.upperBound
            }
            XCTAssertEqual(next, count)
        }
    }

    func testEveryMemberOwnsADifferentChunk() {
        let partition = RingPartition(parameterCount: 5000, size: 5)
        XCTAssertEqual(Set((0..<5).map { partition.ownedChunk(rank: $0) }), Set(0..<5))
    }

    /// Plays the schedule with sets of contributors: after reduce-scatter each
    /// owner holds its chunk summed over every member exactly once, and after
    /// all-gather every member holds every owner's chunk.
    func testScheduleReducesEachChunkOverEveryMemberAndGathersAll() {
        for size in 1...8 {
            let partition = RingPartition(parameterCount: 1 << 20, size: size)
            // contributions[r][c]: which members' values member r has summed into its chunk c
            var contributions = (0..<size).map { r in (0..<size).map { _ in [r] } }
            for round in 0..<partition.rounds {
                let sent = (0..<size).map { r in contributions[r][partition.reduceScatterSend(rank: r, round: round)] }
                for r in 0..<size {
                    let left = (r + size - 1) % size
                    let chunk = partition.reduceScatterReceive(rank: r, round: round)
                    XCTAssertEqual(chunk, partition.reduceScatterSend(rank: left, round: round), "size \(size) round \(round)")
                    contributions[r][chunk] += sent[left]
                }
            }
            for r in 0..<size {
                XCTAssertEqual(contributions[r][partition.ownedChunk(rank: r)].sorted(), Array(0..<size), "size \(size) rank \(r)")
            }
            // holder[r][c]: the rank whose update member r holds for chunk c (nil: stale)
            var holder: [[Int?]] = (0..<size).map { r in (0..<size).map { $0 == partition.ownedChunk(rank: r) ? r : nil } }
            for round in 0..<partition.rounds {
                let sent = (0..<size).map { r -> Int? in holder[r][partition.allGatherSend(rank: r, round: round)] }
                for r in 0..<size {
                    let left = (r + size - 1) % size
                    let chunk = partition.allGatherReceive(rank: r, round: round)
                    XCTAssertEqual(chunk, partition.allGatherSend(rank: left, round: round))
                    XCTAssertNotNil(sent[left], "size \(size): rank \(left) sends a chunk it does not have yet")
                    holder[r][chunk] = sent[left]
                }
            }
            for r in 0..<size {
                for c in 0..<size {
                    XCTAssertEqual(holder[r][c], (c + size - 1) % size, "size \(size): rank \(r) chunk \(c)")
                }
            }
        }
    }

    func testPiecesTileEveryChunkAndTheirIndicesFitTheMessageField() {
        for (count, size) in [(535_818, 1), (535_818, 2), (535_818, 3), (203_530, 2), (25_450, 4), (1 << 24, 4096)] {
            let partition = RingPartition(parameterCount: count, size: size)
            XCTAssertGreaterThanOrEqual(partition.pieces, 1)
            XCTAssertLessThanOrEqual(partition.messageIndex(chunk: size - 1, piece: partition.pieces - 1), RingSetupLimits.maxChunkMessages - 1)
            for chunk in 0..<size {
                var next = partition.chunk(chunk).lowerBound
                for piece in 0..<partition.pieces {
                    let range = partition.piece(piece, of: chunk)
                    XCTAssertEqual(range.lowerBound, next, "\(count) over \(size): chunk \(chunk) piece \(piece)")
                    next = range.upperBound
                }
                XCTAssertEqual(next, partition.chunk(chunk).upperBound)
            }
        }
        // The benchmark's model over two members travels in several pieces.
        XCTAssertGreaterThan(RingPartition(parameterCount: 535_818, size: 2).pieces, 1)
    }

    /// A partition of part of the parameters keeps their indices and aligns from its start.
    func testAPartitionOfARangeTilesIt() {
        let partition = RingPartition(range: 1024..<10_000, size: 3)
        XCTAssertEqual(partition.parameterCount, 8976)
        XCTAssertEqual(partition.chunk(0).lowerBound, 1024)
        XCTAssertEqual(partition.chunk(2).upperBound, 10_000)
        for index in 0..<3 { XCTAssertEqual((partition.chunk(index).lowerBound - 1024) % RingPartition.alignment, 0) }
        XCTAssertEqual(partition.chunk(0).upperBound, partition.chunk(1).lowerBound)
    }

    /// Two levels: the slices the members update tile the parameters, each
    /// member has one, and neighbours are those of its host and of its local rank.
    func testTwoLevelSlicesTileTheParametersAndNeighboursMatch() {
        for (count, hosts, perHost) in [(535_818, 2, 2), (535_818, 3, 2), (25_450, 2, 3), (1000, 4, 4)] {
            let layout = TwoLevelLayout(parameterCount: count, hosts: hosts, perHost: perHost)
            // Empty slices (more members than aligned blocks) take no place.
            let slices = (0..<layout.size).map { layout.owned(rank: $0) }.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
            XCTAssertEqual(slices.first?.lowerBound, 0)
            XCTAssertEqual(slices.last?.upperBound, count)
            for (a, b) in zip(slices, slices.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, "\(hosts) hosts of \(perHost)") }
            for rank in 0..<layout.size {
                XCTAssertEqual(layout.host(of: layout.localRight(of: rank)), layout.host(of: rank))
                XCTAssertEqual(layout.localLeft(of: layout.localRight(of: rank)), rank)
                XCTAssertEqual(layout.localRank(of: layout.hostRight(of: rank)), layout.localRank(of: rank))
                XCTAssertNotEqual(layout.host(of: layout.hostRight(of: rank)), layout.host(of: rank))
                XCTAssertEqual(layout.hostLeft(of: layout.hostRight(of: rank)), rank)
            }
        }
    }
}
